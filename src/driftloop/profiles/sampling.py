"""Rows drawn from a profile: each column independently, from its own distribution.

What a no-drift window would look like if its rows came from the profiled population, for
calibrating thresholds when only the profile is at hand. A numeric column is drawn from its exact
values while they are kept, from its exact value counts when it has few distinct values, else by
inverting the quantile sketch's CDF, interpolated linearly between ``GRID`` quantiles (the
minimum and maximum exact), so draws are continuous like the data and within the sketch's rank
error of its distribution. A label or boolean column is drawn from its exact category counts
(rows beyond the category cap as the one ``OTHER`` category). Nulls and infinite values are drawn
at their profiled rates. Columns are drawn independently: per-column statistics see the same
distribution as real rows; joint (multivariate, segment) ones would not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from driftloop.drift.columns import DtypeFamily
from driftloop.profiles.column import ColumnProfile
from driftloop.profiles.dataset import Profile
from driftloop.profiles.numeric import NumericSummary

__all__ = ["GRID", "Sampler", "drawable"]

GRID = 4097


def drawable(column: ColumnProfile) -> bool:
    """Whether rows can be drawn for ``column`` (numbers, labels and booleans)."""
    if column.family is DtypeFamily.NUMBER:
        return column.numeric is not None and column.numeric.count > 0
    return column.labels is not None and column.labels.total + column.labels.other > 0


class Sampler:
    """Draws windows of rows from ``profile`` (the grids are computed once).

    Examples
    --------
    >>> from driftloop.profiles.dataset import profile
    >>> p = profile(pl.DataFrame({"x": [1.0, 2.0, 2.0], "c": ["a", "b", "b"]}))
    >>> window = Sampler(p).draw(1000, np.random.default_rng(0))
    >>> window.columns, sorted(window["c"].unique().to_list()), window["x"].is_in([1.0, 2.0]).all()
    (['x', 'c'], ['a', 'b'], True)
    """

    def __init__(self, profile: Profile, columns: Sequence[str] | None = None) -> None:
        names = list(columns) if columns is not None else profile.columns
        self.columns = [c for c in (profile.column(n) for n in names) if drawable(c)]
        self._grids = {
            c.name: _grid(c.numeric)
            for c in self.columns
            if c.numeric is not None and c.numeric.values is None and c.numeric.distinct is None
        }

    def draw(self, rows: int, rng: np.random.Generator) -> pl.DataFrame:
        """A window of ``rows`` rows."""
        return pl.DataFrame([self._column(c, rows, rng) for c in self.columns])

    def _column(self, c: ColumnProfile, rows: int, rng: np.random.Generator) -> pl.Series:
        if c.numeric is not None and c.family is DtypeFamily.NUMBER:
            values = self._numbers(c, c.numeric, rows, rng)
            return _typed(pl.Series(c.name, values), c.dtype, integer=True)
        assert c.labels is not None  # drawable() checked it
        labels, counts = c.labels.as_counts()
        picked = np.asarray(labels, dtype=object)[_pick(counts, rows, rng)]
        series = pl.Series(c.name, picked.tolist(), dtype=pl.String)
        series = _with_nulls(series, c.n_null / max(c.n_rows, 1), rng)
        return _typed(series, c.dtype, integer=False)

    def _numbers(
        self, c: ColumnProfile, s: NumericSummary, rows: int, rng: np.random.Generator
    ) -> np.ndarray:
        if s.values is not None:
            values = rng.choice(s.values, rows)
        elif s.distinct is not None:
            values = s.distinct[0][_pick(s.distinct[1], rows, rng)]
        else:
            ranks = np.linspace(0.0, 1.0, GRID)
            values = np.interp(rng.random(rows), ranks, self._grids[c.name])
        values = np.asarray(values, dtype=np.float64)
        shares = np.array([c.n_null, c.n_inf, 0], dtype=np.float64) / max(c.n_rows, 1)
        shares[2] = 1.0 - shares[:2].sum()
        kind = rng.choice(3, rows, p=shares)
        values[kind == 0] = np.nan
        values[kind == 1] = np.inf
        return values


def _pick(counts: Any, rows: int, rng: np.random.Generator) -> np.ndarray:
    weights = np.asarray(counts, dtype=np.float64)
    return rng.choice(weights.size, rows, p=weights / weights.sum())


def _grid(s: NumericSummary) -> np.ndarray:
    """The sketch's quantiles at ``GRID`` even ranks, minimum and maximum exact."""
    sketch = s.quantile_sketch()
    ranks = np.linspace(0.0, 1.0, GRID)
    grid = np.asarray(sketch.get_quantiles(ranks), dtype=np.float64)  # type: ignore[attr-defined]
    grid[0], grid[-1] = s.minimum, s.maximum
    return np.maximum.accumulate(grid)


def _with_nulls(series: pl.Series, share: float, rng: np.random.Generator) -> pl.Series:
    if share <= 0:
        return series
    return series.scatter(np.flatnonzero(rng.random(series.len()) < share), None)


def _typed(series: pl.Series, dtype: str, *, integer: bool) -> pl.Series:
    """``series`` in the profiled dtype (integers rounded; nulls where NaN); a dtype this cannot
    rebuild (e.g. an Enum) stays Float64 or String, which the engine reads alike."""
    target = getattr(pl, dtype, None)
    if not (isinstance(target, type) and issubclass(target, pl.DataType)):
        return series
    if integer:
        series = series.fill_nan(None)
        if target.is_integer():  # an integer column has no infinite values to draw
            series = series.round(0)
    elif target == pl.Boolean:
        return (series == "true").alias(series.name)
    try:
        return series.cast(target)
    except pl.exceptions.PolarsError:
        return series
