"""Conditional Monte Carlo p-values, for the samples where asymptotic p-values are wrong.

Under no drift every split of the pooled sample into a reference of ``n`` and a current window of
``m`` values is equally likely. For data with repeated values (counts, ratings, rounded sensors,
categories) a split is fully described by how many of each distinct value fall in the current
window: a multivariate hypergeometric draw
(:meth:`numpy.random.Generator.multivariate_hypergeometric`).
Drawing ``DRAWS`` such splits gives the statistic's null distribution at the actual sample sizes
and ties, and the p-value ``(1 + #{simulated >= observed}) / (DRAWS + 1)``, which never exceeds
its level (it is exact for a test of level alpha whatever the number of draws).

The draws use a fixed seed, so a report is reproducible: the same data give the same p-value.

**No floor.** ``DRAWS`` draws cannot give a p-value below ``1 / (DRAWS + 1)`` = 0.0005, so a
threshold below that, or Bonferroni over many columns, could never flag a resampled column. Where
the first draws leave at most ``REFINE_HITS`` simulated statistics at or past the observed one,
the p-value is refined: for chi-square by a second, independent and larger set of draws
(``REFINE_DRAWS``); for KS (:func:`driftloop.drift.ks.ks_test`) by scipy's continuous p-value,
which is conservative on tied data. Both refinements keep the level: below the first stage's
smallest reachable value only the second (itself valid) p-value can reject, and above it the first
stage already had.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from driftloop.drift.samples import Sample

__all__ = [
    "DRAWS",
    "REFINE_BELOW",
    "chisquare_p_value",
    "distance_noise",
    "ks_p_value",
    "null_counts",
]

DRAWS = 1999
REFINE_HITS = 4  # at most this many simulated statistics reached the observed one: refine
REFINE_BELOW = (1 + REFINE_HITS) / (DRAWS + 1)  # = 0.0025, the first stage's p-value then
REFINE_DRAWS = 99_999
_REFINE_CELLS = 50_000_000  # draws x categories of the second stage, at most
_REFINE_CHUNK = 10_000
DISTANCE_DRAWS = 199  # each draw recomputes a distance: fewer, enough to tell 5% from 50%
_SEED = 20_111_001
_RELATIVE_TOLERANCE = 1e-9  # a simulated statistic equal to the observed one counts as >=

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def null_counts(pooled: IntArray, n_draw: int, draws: int = DRAWS, seed: int = _SEED) -> IntArray:
    """``draws`` rows of how many of each distinct value a random ``n_draw``-subset holds."""
    rng = np.random.default_rng(seed)
    # 'count' costs O(n_draw) per draw, 'marginals' O(number of distinct values)
    method: Literal["count", "marginals"] = "count" if n_draw < pooled.size else "marginals"
    return rng.multivariate_hypergeometric(
        pooled.astype(np.int64), n_draw, size=draws, method=method
    )


def _p_value(observed: float, simulated: FloatArray) -> float:
    hits = int(np.count_nonzero(simulated >= observed * (1 - _RELATIVE_TOLERANCE)))
    return (1 + hits) / (simulated.size + 1)


def _row_total(counts: IntArray) -> int:
    """The sample size of one row of counts (every row of a simulation has the same)."""
    return int(counts.reshape(-1, counts.shape[-1])[0].sum())


def _split(
    ref_counts: IntArray, cur_counts: IntArray, draws: int = DRAWS, seed: int = _SEED
) -> tuple[IntArray, IntArray]:
    """Simulated (reference, current) count tables under no drift, drawing the smaller side."""
    pooled = ref_counts + cur_counts
    if cur_counts.sum() <= ref_counts.sum():
        cur = null_counts(pooled, int(cur_counts.sum()), draws, seed)
        return pooled - cur, cur
    ref = null_counts(pooled, int(ref_counts.sum()), draws, seed)
    return ref, pooled - ref


def ks_statistics(ref_counts: IntArray, cur_counts: IntArray) -> FloatArray:
    """KS statistic of each row of aligned counts over the sorted distinct values."""
    n, m = _row_total(ref_counts), _row_total(cur_counts)
    gap = np.cumsum(ref_counts, axis=-1) * m - np.cumsum(cur_counts, axis=-1) * n
    return np.asarray(np.abs(gap).max(axis=-1) / (n * m), dtype=np.float64)


def ks_p_value(ref_counts: IntArray, cur_counts: IntArray) -> tuple[float, float]:
    """``(statistic, p_value)`` of the two-sample KS test on tied data.

    ``ref_counts`` and ``cur_counts`` count each distinct value (sorted ascending) on each side.
    scipy's p-values assume no ties; with ties they are conservative (a 5% test flags about 1%
    of no-drift Poisson(3) windows). This one holds its level at any size and any ties.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = np.bincount(rng.poisson(3, 200), minlength=15)
    >>> cur = np.bincount(rng.poisson(3, 50), minlength=15)
    >>> d, p = ks_p_value(ref, cur)
    >>> 0 <= d < 0.2, 0.05 < p <= 1
    (True, True)
    """
    ref_counts, cur_counts = ref_counts.astype(np.int64), cur_counts.astype(np.int64)
    observed = float(ks_statistics(ref_counts, cur_counts))
    sim_ref, sim_cur = _split(ref_counts, cur_counts)
    return observed, _p_value(observed, ks_statistics(sim_ref, sim_cur))


def _chisquare_statistics(ref: IntArray, cur: IntArray, pooled: IntArray) -> FloatArray:
    n, m = _row_total(ref), _row_total(cur)
    total = n + m
    keep = pooled > 0
    expected_ref = pooled[keep] * (n / total)
    expected_cur = pooled[keep] * (m / total)
    ref, cur = ref[..., keep], cur[..., keep]
    ref_part = np.sum((ref - expected_ref) ** 2 / expected_ref, axis=-1)
    cur_part = np.sum((cur - expected_cur) ** 2 / expected_cur, axis=-1)
    return np.asarray(ref_part + cur_part, dtype=np.float64)


def chisquare_p_value(ref_counts: IntArray, cur_counts: IntArray) -> float:
    """Monte Carlo p-value of the chi-square test of homogeneity on a sparse 2 x k table.

    When expected counts are small (many categories, a short window) the chi-square
    distribution is a poor guide: 50 categories and a 30-row window flag 12-24% of no-drift
    windows at a stated 5%. The statistic's null distribution given both margins is simulated
    instead (Pearson's statistic, no continuity correction).
    """
    ref_counts, cur_counts = ref_counts.astype(np.int64), cur_counts.astype(np.int64)
    pooled = ref_counts + cur_counts
    observed = float(_chisquare_statistics(ref_counts, cur_counts, pooled))
    sim_ref, sim_cur = _split(ref_counts, cur_counts)
    p_value = _p_value(observed, _chisquare_statistics(sim_ref, sim_cur, pooled))
    if p_value > REFINE_BELOW:
        return p_value
    return _refined_chisquare(observed, ref_counts, cur_counts, pooled)


def _refined_chisquare(
    observed: float, ref_counts: IntArray, cur_counts: IntArray, pooled: IntArray
) -> float:
    """A second, independent Monte Carlo p-value with up to ``REFINE_DRAWS`` draws (fewer on
    very wide tables), in chunks so memory stays bounded."""
    draws = max(DRAWS, min(REFINE_DRAWS, _REFINE_CELLS // max(int(pooled.size), 1)))
    hits, done, chunk = 0, 0, 0
    while done < draws:
        size = min(_REFINE_CHUNK, draws - done)
        sim_ref, sim_cur = _split(ref_counts, cur_counts, size, _SEED + 1 + chunk)
        simulated = _chisquare_statistics(sim_ref, sim_cur, pooled)
        hits += int(np.count_nonzero(simulated >= observed * (1 - _RELATIVE_TOLERANCE)))
        done, chunk = done + size, chunk + 1
    return (1 + hits) / (draws + 1)


def distance_noise(
    reference: Sample,
    current: Sample,
    statistic: Callable[[Sample, Sample], float],
    threshold: float,
    draws: int = DISTANCE_DRAWS,
) -> tuple[float, float]:
    """A distance's behaviour under no drift at these sizes: ``(p_value, no_drift_rate)``.

    ``p_value`` is the share of random splits of the pooled data at least as far apart as the
    observed samples; ``no_drift_rate`` the share of them at or past ``threshold``: how often
    a fixed threshold flags windows of this size that did not drift.
    """
    from driftloop.drift.samples import CategoricalSample, NumericSample, category_counts

    labels, ref_counts, cur_counts = category_counts(reference, current)
    sim_ref, sim_cur = _split(ref_counts, cur_counts, draws)

    def rebuild(counts: IntArray) -> Sample:
        n = int(counts.sum())
        if isinstance(reference, NumericSample):
            return NumericSample(np.repeat(labels.astype(np.float64), counts), n, 0, 0)
        keep = counts > 0
        return CategoricalSample(labels[keep].astype(str), counts[keep], n, 0)

    observed = statistic(reference, current)
    simulated = np.array(
        [statistic(rebuild(r), rebuild(c)) for r, c in zip(sim_ref, sim_cur, strict=True)]
    )
    return _p_value(observed, simulated), float(np.mean(simulated >= threshold))
