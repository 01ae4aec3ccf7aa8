"""Multivariate drift: a change in how columns relate, which no single column shows.

A broken join that swaps or mis-keys one column keeps every marginal distribution, so every
per-column test stays quiet, while the relationships a model relies on are gone. Two methods look
at rows as a whole:

- ``domain_classifier`` (:mod:`driftloop.drift.domain_classifier`): a gradient-boosting
  classifier learns to tell reference rows from current rows; statistic = cross-validated ROC-AUC.
- ``pca_reconstruction`` (:mod:`driftloop.drift.pca_reconstruction`): principal components of the
  standardised reference; statistic = the current rows' mean reconstruction error.

Both take their p-value from a permutation test (no three-sigma rule: its false-alarm rate depends
on the data) and name the columns that drive them. Rows are capped at ``max_rows`` per side, drawn
at random with a fixed seed, so a report is reproducible and a large window costs the same as a
small one. This module encodes the rows (numbers as they are, labels as codes) and runs the
configured methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from driftloop.drift.results import MultivariateDrift
from driftloop.drift.settings import MultivariateSettings

__all__ = ["MIN_ROWS", "Encoded", "attribution", "encode", "run_multivariate"]

MIN_ROWS = 30  # per side: below this a five-fold classifier sees a handful of rows per fold
_MAX_CODES = 254  # HistGradientBoosting's categorical limit (max_bins 255), one code kept for rare

_TOP = 5
_MIN_SHARE = 0.1  # a column below a tenth of the leading one's weight is not named

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Encoded:
    """Both sides as float matrices, one column per feature; labels as codes, missing as NaN."""

    reference: FloatArray
    current: FloatArray
    names: tuple[str, ...]
    categorical: tuple[bool, ...]


def run_multivariate(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    columns: Sequence[tuple[str, str]],
    settings: MultivariateSettings,
) -> tuple[MultivariateDrift, ...]:
    """Run each configured method on ``columns`` (name, kind) of both sides.

    Too few columns or rows give skipped results that say why, so the rest of the report stands.
    """
    names = tuple(name for name, _ in columns)
    sizes = (reference.height, current.height)
    reason = _skip_reason(names, sizes)
    if reason is not None:
        return tuple(_skipped(m, names, sizes, reason) for m in settings.methods)
    data = encode(reference, current, columns, settings.max_rows, settings.seed)
    return tuple(_run_method(method, data, settings) for method in settings.methods)


def _run_method(method: str, data: Encoded, settings: MultivariateSettings) -> MultivariateDrift:
    if method == "domain_classifier":
        from driftloop.drift.domain_classifier import domain_classifier

        return domain_classifier(data, settings)
    from driftloop.drift.pca_reconstruction import pca_reconstruction

    return pca_reconstruction(data, settings)


def _skip_reason(names: tuple[str, ...], sizes: tuple[int, int]) -> str | None:
    if len(names) < 2:
        return (
            f"needs at least 2 tested numerical or categorical columns; got {len(names)} "
            f"({', '.join(names) or 'none'})"
        )
    if min(sizes) < MIN_ROWS:
        return (
            f"needs at least {MIN_ROWS} rows on each side; got {sizes[0]} reference and "
            f"{sizes[1]} current rows"
        )
    return None


def _skipped(
    method: str, names: tuple[str, ...], sizes: tuple[int, int], reason: str
) -> MultivariateDrift:
    return MultivariateDrift(
        method=method,
        statistic=None,
        threshold=None,
        p_value=None,
        drifted=False,
        top_features=(),
        columns=names,
        n_reference=sizes[0],
        n_current=sizes[1],
        skipped=reason,
    )


def encode(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    columns: Sequence[tuple[str, str]],
    max_rows: int,
    seed: int,
) -> Encoded:
    """At most ``max_rows`` random rows of each side as matrices (see :class:`Encoded`).

    Examples
    --------
    >>> ref = pl.DataFrame({"x": [1.0, 2.0, None], "c": ["a", "b", "a"]})
    >>> cur = pl.DataFrame({"x": [3.0, 4.0], "c": ["z", "a"]})
    >>> e = encode(ref, cur, [("x", "numerical"), ("c", "categorical")], 10, 0)
    >>> e.names, e.categorical, e.reference.shape, e.current.shape
    (('x', 'c'), (False, True), (3, 2), (2, 2))
    """
    rng = np.random.default_rng(seed)
    wanted = [name for name, _ in columns]
    ref = _sample_rows(reference.select(wanted), max_rows, rng)
    cur = _sample_rows(current.select(wanted), max_rows, rng)
    ref_columns, cur_columns, categorical = [], [], []
    for name, kind in columns:
        r, c = ref.get_column(name), cur.get_column(name)
        if kind != "categorical" and (r.dtype.is_numeric() or r.dtype == pl.Boolean):
            ref_columns.append(_numbers(r))
            cur_columns.append(_numbers(c))
            categorical.append(False)
        else:
            ref_codes, cur_codes = _codes(r, c)
            ref_columns.append(ref_codes)
            cur_columns.append(cur_codes)
            categorical.append(True)
    return Encoded(
        reference=np.column_stack(ref_columns),
        current=np.column_stack(cur_columns),
        names=tuple(name for name, _ in columns),
        categorical=tuple(categorical),
    )


def _sample_rows(frame: pl.DataFrame, max_rows: int, rng: np.random.Generator) -> pl.DataFrame:
    """Random rows in random order: the classifier may take the first k of either side."""
    return frame[rng.permutation(frame.height)[:max_rows]]


def _numbers(series: pl.Series) -> FloatArray:
    values = series.cast(pl.Float64).to_numpy().astype(np.float64, copy=True)
    values[~np.isfinite(values)] = np.nan
    return values


def _codes(reference: pl.Series, current: pl.Series) -> tuple[FloatArray, FloatArray]:
    """Labels as codes by frequency over both sides; the rarest labels share the last code.

    Ranked on both sides pooled, never on the reference alone: a cut by reference counts would
    put labels that happen to be rarer in the reference in the shared code, which then holds
    more current rows than reference rows, and a classifier finds that "drift" in any data.
    """
    ref_text = reference.cast(pl.String)
    pooled = pl.concat([ref_text, current.cast(pl.String)])
    counts = pooled.drop_nulls().value_counts()
    label, count = counts.columns
    ranked = counts.sort([count, label], descending=[True, False])  # ties: reproducible order
    labels = ranked.get_column(label).to_list()[:_MAX_CODES]
    lookup = {label: float(i) for i, label in enumerate(labels)}

    def to_codes(series: pl.Series) -> FloatArray:
        return np.array(
            [np.nan if v is None else lookup.get(v, float(_MAX_CODES)) for v in series.to_list()],
            dtype=np.float64,
        )

    return to_codes(ref_text), to_codes(current.cast(pl.String))


def attribution(
    names: tuple[str, ...], weights: FloatArray
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The columns carrying a method's signal, most first, with their share of the total.

    Examples
    --------
    >>> attribution(("temp", "atemp", "hum"), np.array([0.2, 0.3, 0.01]))
    (('atemp', 'temp'), (0.5882, 0.3922))
    """
    total = float(weights.sum())
    if total <= 0:
        return (), ()
    order = [int(i) for i in np.argsort(-weights, kind="stable")[:_TOP]]
    kept = [i for i in order if weights[i] >= _MIN_SHARE * weights[order[0]]]
    return tuple(names[i] for i in kept), tuple(round(float(weights[i]) / total, 4) for i in kept)
