"""One column's profile: what the engine and the degradation checks read, mergeable.

A numeric column keeps its counts, moments, extremes and values or quantile sketch
(:class:`~driftloop.profiles.numeric.NumericSummary`); a label or boolean column its category
counts (:class:`~driftloop.profiles.labels.LabelCounts`); a date or other column only its row
and null counts (the engine reports such columns without testing them).

A column gives the engine the same sample a data frame would (:meth:`ColumnProfile.sample`):
the exact values while they are kept, the values rebuilt from exact counts when a column has few
distinct values, else a :class:`~driftloop.drift.sketched.SketchedSample`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from driftloop.drift.columns import DtypeFamily, dtype_family
from driftloop.drift.samples import CategoricalSample, NumericSample, Sample
from driftloop.drift.sketched import GRID, SketchedSample
from driftloop.errors import ProfileError, ValueQualityError
from driftloop.profiles.labels import LabelCounts
from driftloop.profiles.numeric import NumericSummary, rank_error

__all__ = ["REBUILD_MAX", "ColumnProfile"]

REBUILD_MAX = 20_000_000  # values rebuilt from exact counts up to this many (160 MB)


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """The profile of one column (see the module docstring).

    Examples
    --------
    >>> c = ColumnProfile.from_series(pl.Series("x", [1.0, None, float("inf"), 3.0]))
    >>> c.family, c.n_rows, c.n_null, c.n_inf, c.numeric.count, c.numeric.mean
    (<DtypeFamily.NUMBER: 'number'>, 4, 1, 1, 2, 2.0)
    """

    name: str
    dtype: str
    family: DtypeFamily
    n_rows: int
    n_null: int
    n_inf: int
    numeric: NumericSummary | None = None
    labels: LabelCounts | None = None

    @classmethod
    def from_series(cls, series: pl.Series) -> ColumnProfile:
        family = dtype_family(series.dtype)
        base = cls(series.name, str(series.dtype), family, series.len(), series.null_count(), 0)
        if family is DtypeFamily.NUMBER:
            # in numpy (nulls read as NaN): no Polars query per column, which costs ms a call
            values = series.cast(pl.Float64).to_numpy()
            finite = values[np.isfinite(values)]
            n_inf = int(np.isinf(values).sum())
            summary = NumericSummary.from_values(finite)
            n_null = values.size - finite.size - n_inf  # nulls and NaN, as the engine counts
            return replace(base, n_null=n_null, n_inf=n_inf, numeric=summary)
        if family in (DtypeFamily.LABEL, DtypeFamily.BOOLEAN):
            counts = series.cast(pl.String).value_counts(name="__count").drop_nulls(series.name)
            labels = counts[series.name].to_list()
            return replace(
                base, labels=LabelCounts.from_pairs(labels, counts["__count"].to_numpy())
            )
        return base

    @property
    def dtype_text(self) -> str:
        return self.dtype

    @property
    def sketched(self) -> bool:
        """Whether the engine reads this column as a quantile grid (a ``SketchedSample``)."""
        s = self.numeric
        if s is None or s.values is not None:
            return False
        return s.distinct is None or s.count > REBUILD_MAX

    @property
    def rank_error(self) -> float:
        """The quantile sketch's rank error, 0 when the exact values are kept."""
        if self.numeric is None or self.numeric.exact:
            return 0.0
        return rank_error()

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """The profile of both columns' rows together. A part where the column holds only nulls
        (typed ``Null`` when a file has no value to type it by) takes the other part's type."""
        if other.family is not self.family and self.n_null == self.n_rows:
            return replace(other, name=self.name, n_rows=self.n_rows + other.n_rows,
                           n_null=self.n_null + other.n_null)  # fmt: skip
        if other.family is not self.family and other.n_null == other.n_rows:
            return replace(
                self, n_rows=self.n_rows + other.n_rows, n_null=self.n_null + other.n_null
            )
        if other.family is not self.family:
            raise ProfileError(
                f"Column '{self.name}' is {self.family} ({self.dtype}) in one profile and "
                f"{other.family} ({other.dtype}) in the other. Profile sources with the same "
                "column types, or cast the column upstream."
            )
        numeric = labels = None
        if self.numeric is not None and other.numeric is not None:
            numeric = self.numeric.merge(other.numeric)
        if self.labels is not None and other.labels is not None:
            labels = self.labels.merge(other.labels)
        return replace(
            self,
            n_rows=self.n_rows + other.n_rows,
            n_null=self.n_null + other.n_null,
            n_inf=self.n_inf + other.n_inf,
            numeric=numeric,
            labels=labels,
        )

    def sample(self, family: DtypeFamily, *, side: str, nonfinite: str) -> Sample:
        """The sample the engine reads for this column (see the module docstring)."""
        if self.n_inf and nonfinite == "error":
            raise ValueQualityError(
                f"Column '{self.name}' in {side} profile has {self.n_inf} inf value(s). Replace "
                "them and rebuild the profile, or set nonfinite: drop to ignore them."
            )
        if family is DtypeFamily.NUMBER:
            return self._numeric_sample(side)
        if self.labels is None:
            raise ProfileError(
                f"Column '{self.name}' in the {side} profile is {self.family} ({self.dtype}); the "
                f"other side holds {family} values. Profile both sides with the same column types."
            )
        labels, counts = self.labels.as_counts()
        return CategoricalSample.from_counts(labels, counts, n_rows=self.n_rows)

    def _numeric_sample(self, side: str) -> NumericSample:
        s = self.numeric
        if s is None:
            raise ProfileError(
                f"Column '{self.name}' in the {side} profile is {self.family} ({self.dtype}); the "
                "other side holds numbers. Profile both sides with the same column types."
            )
        if s.values is not None:
            return NumericSample(s.values, self.n_rows, self.n_null, self.n_inf)
        if s.distinct is not None and s.count <= REBUILD_MAX:
            values = np.repeat(s.distinct[0], s.distinct[1])
            return NumericSample(values, self.n_rows, self.n_null, self.n_inf)
        return SketchedSample(
            _grid(s),
            self.n_rows,
            self.n_null,
            self.n_inf,
            count=s.count,
            mean=s.mean,
            m2=s.m2,
            cdf_error=self.rank_error + 1.0 / GRID,
            distinct=s.distinct,
        )


def _grid(summary: NumericSummary) -> np.ndarray:
    """``GRID`` quantiles at mid-ranks, the first and last the exact minimum and maximum."""
    ranks = (np.arange(GRID, dtype=np.float64) + 0.5) / GRID
    sketch = summary.quantile_sketch()
    grid = np.asarray(sketch.get_quantiles(ranks), dtype=np.float64)  # type: ignore[attr-defined]
    grid[0], grid[-1] = summary.minimum, summary.maximum
    return np.maximum.accumulate(grid)
