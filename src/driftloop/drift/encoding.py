"""Rows of both sides as float matrices: numbers as they are, labels as codes, missing as NaN.

What the multivariate methods (:mod:`driftloop.drift.multivariate`) read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = ["Encoded", "encode"]

_MAX_CODES = 254  # HistGradientBoosting's categorical limit (max_bins 255), one code kept for rare

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Encoded:
    """Both sides as float matrices, one column per feature; labels as codes, missing as NaN."""

    reference: FloatArray
    current: FloatArray
    names: tuple[str, ...]
    categorical: tuple[bool, ...]


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
