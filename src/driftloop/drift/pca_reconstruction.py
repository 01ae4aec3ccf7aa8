"""PCA reconstruction error: do current rows still lie where reference rows lie?

Numbers are standardised on the reference (a constant column keeps scale 1, so it never divides
by zero; a missing value becomes its column's pooled mean); labels become indicator columns of the
pooled data's most frequent labels. The principal components that explain ``explained_variance``
of the reference are kept; a row's error is the mean squared difference between it and its
projection on them. The statistic is the current rows' mean error: rows whose columns no longer
agree (``atemp`` no longer following ``temp``) leave the reference's plane and raise it.

P-value: a permutation test. Under no drift every split of the pooled rows into a reference and a
window of the actual sizes is equally likely; each of ``permutations`` random splits refits the
components on its reference part (as many as the reference kept) and scores its window part,
giving the p-value ``(1 + #{null >= observed}) / (draws + 1)``. Holding the number of components
at the reference's makes the test approximate rather than exact; its false-alarm rate is
measured in ``tests/drift/test_multivariate.py`` and ``benchmarks/bench_multivariate.py``. A
fit is an eigen decomposition of a small covariance matrix: a few milliseconds at the row cap.

Attribution: each column's share of the excess error: the current rows' error in that column
minus its mean over the no-drift splits. (Against the reference's own, in-sample error, a window
whose error beat the splits could have no column in excess, and a drift with no named cause.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from driftloop.drift.attribution import attribution
from driftloop.drift.results import MultivariateDrift

if TYPE_CHECKING:
    from driftloop.drift.encoding import Encoded
    from driftloop.drift.settings import MultivariateSettings

__all__ = ["pca_reconstruction"]

_TOLERANCE = 1e-12
_MAX_LABELS = 20  # indicator columns per label column; rarer labels share one
REFINE_HITS = 4  # at most this many null statistics reached the observed one: refine
REFINE_PERMUTATIONS = 1999

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class _Design:
    """Pooled rows as numbers (indicators for labels), and which original column each came from."""

    rows: FloatArray
    owner: npt.NDArray[np.int64]
    n_reference: int


def pca_reconstruction(data: Encoded, settings: MultivariateSettings) -> MultivariateDrift:
    """Mean reconstruction error of the current rows, its permutation p-value, attribution."""
    from threadpoolctl import threadpool_limits

    # Small matrices gain nothing from BLAS threads, and on a busy machine they lose a lot: at
    # 100,000 x 25 rows a side, 3.3 s on one thread against 42 s on all, two shared cores loaded.
    with threadpool_limits(1, user_api="blas"):
        return _fit_and_test(data, settings)


def _fit_and_test(data: Encoded, settings: MultivariateSettings) -> MultivariateDrift:
    design = _design(data)
    n = design.n_reference
    ref, cur = design.rows[:n], design.rows[n:]
    k = _components(ref, settings.explained_variance)
    per_column_cur = _errors(ref, cur, k).mean(axis=0)
    statistic = float(per_column_cur.mean())
    null_per_column = _null(design, k, settings.permutations, settings.seed)
    null = null_per_column.mean(axis=1)
    hits = int(np.sum(null >= statistic - _TOLERANCE))
    p_value = (1 + hits) / (settings.permutations + 1)
    if hits <= REFINE_HITS and settings.permutations < REFINE_PERMUTATIONS:
        # small enough to matter in the window's family: refine it with fresh, more splits
        # (valid: below the first stage's smallest value only the second stage can reject)
        second = _null(design, k, REFINE_PERMUTATIONS, settings.seed + 1).mean(axis=1)
        p_value = (1 + int(np.sum(second >= statistic - _TOLERANCE))) / (REFINE_PERMUTATIONS + 1)
    excess = np.bincount(
        design.owner, weights=np.maximum(per_column_cur - null_per_column.mean(axis=0), 0.0),
        minlength=len(data.names),
    )  # fmt: skip
    top, shares = attribution(data.names, excess.astype(np.float64))
    return MultivariateDrift(
        method="pca_reconstruction",
        statistic=statistic,
        threshold=float(np.quantile(null, 1 - settings.alpha)),
        p_value=p_value,
        drifted=p_value < settings.alpha,
        top_features=top,
        columns=data.names,
        n_reference=len(ref),
        n_current=len(cur),
        importances=shares,
    )


def _null(design: _Design, k: int, permutations: int, seed: int) -> FloatArray:
    """Each column's mean error over random splits of the pooled rows (splits x columns),
    ``k`` components each time; a row's mean is the statistic under no drift."""
    rng = np.random.default_rng(seed)
    n = design.n_reference
    null = np.empty((permutations, design.rows.shape[1]))
    for b in range(permutations):
        order = rng.permutation(len(design.rows))
        null[b] = _errors(design.rows[order[:n]], design.rows[order[n:]], k).mean(axis=0)
    return null


def _standardised(fit: FloatArray) -> tuple[FloatArray, FloatArray]:
    mean = fit.mean(axis=0)
    scale = fit.std(axis=0)
    scale[~(scale > 0)] = 1.0
    return mean, scale


def _eigen(fit: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Eigenvalues (largest first) and eigenvectors of ``fit``'s standardised covariance."""
    mean, scale = _standardised(fit)
    z = (fit - mean) / scale
    values, vectors = np.linalg.eigh(z.T @ z / len(z))
    return values[::-1], vectors[:, ::-1]


def _components(fit: FloatArray, explained: float) -> int:
    """Components explaining ``explained`` of the reference's variance, leaving at least one out
    (with every component kept no error is left to measure). The permutations keep the same
    number: refitted splits of a drifted pool would otherwise keep more, and score nothing."""
    values = np.clip(_eigen(fit)[0], 0, None)
    share = np.cumsum(values) / max(float(values.sum()), 1e-300)
    needed = int(np.searchsorted(share, explained)) + 1
    return min(needed, max(len(values) - 1, 1))


def _errors(fit: FloatArray, scored: FloatArray, k: int) -> FloatArray:
    """Squared reconstruction residuals of ``scored`` (rows x columns) by ``fit``'s first ``k``
    components."""
    mean, scale = _standardised(fit)
    kept = _eigen(fit)[1][:, :k]
    z = (scored - mean) / scale
    residual = z - (z @ kept) @ kept.T
    return np.asarray(residual**2, dtype=np.float64)


def _design(data: Encoded) -> _Design:
    pooled = np.vstack([data.reference, data.current])
    columns, owner = [], []
    for j, categorical in enumerate(data.categorical):
        if not categorical:
            columns.append(pooled[:, j : j + 1])
            owner.append(j)
            continue
        codes = pooled[:, j]
        labels, counts = np.unique(codes[~np.isnan(codes)], return_counts=True)
        frequent = labels[np.argsort(-counts, kind="stable")[:_MAX_LABELS]]
        indicators = (codes[:, None] == frequent[None, :]).astype(np.float64)
        columns.append(indicators)
        owner += [j] * indicators.shape[1]
    rows = np.hstack(columns)
    # Missing numbers take the pooled mean: the same for every split, so the test stays exact.
    fill = np.nan_to_num(np.nanmean(np.where(np.isnan(rows).all(axis=0), 0.0, rows), axis=0))
    rows = np.where(np.isnan(rows), fill, rows)
    return _Design(
        rows=rows,
        owner=np.asarray(owner, dtype=np.int64),
        n_reference=len(data.reference),
    )
