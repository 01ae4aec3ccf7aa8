"""A data frame compared with a profile: read exactly, at the cost a profile can use.

Its labels are counted and its finite numbers sorted as the engine reads any frame, but by
numpy's sort: sorting is most of a frame side's cost, and numpy's vectorised sort of 1M doubles
takes well under Polars' time here (``benchmarks/bench_profile.py`` prints both). Where the
profile's column is a sketch (a quantile grid, see :mod:`driftloop.drift.sketched`), a frame
column that a profile would sketch too (over ``EXACT_MAX`` values, over ``DISTINCT_MAX`` distinct
ones) is reduced to its exact quantile grid (:meth:`SketchedSample.from_sorted`): the sketch holds
no finer detail to compare it with, and distances then cost ``GRID`` values instead of millions.
That grid adds ``1 / GRID`` to the column's reported ``error_bound``. Searching the data in the
sketch's grid instead of sorting it would give the same statistics but costs more here (a binary
search per value against a vectorised sort).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from driftloop.drift.columns import DtypeFamily
from driftloop.drift.detection import Column, FrameTable, SeriesColumn
from driftloop.drift.frames import to_sample
from driftloop.drift.samples import NumericSample, Sample
from driftloop.drift.sketched import SketchedSample
from driftloop.profiles.dataset import Profile
from driftloop.profiles.numeric import DISTINCT_MAX, EXACT_MAX

__all__ = ["FacingColumn", "FacingFrame"]


@dataclass(frozen=True, slots=True)
class FacingFrame(FrameTable):
    """A data frame compared with ``other`` (a :class:`Profile`, see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from driftloop.profiles import profile
    >>> frame = pl.DataFrame({"x": np.random.default_rng(0).normal(size=10_000)})
    >>> column = FacingFrame(frame, profile(frame)).columns_by_name()["x"]
    >>> type(column.sample(DtypeFamily.NUMBER, side="current", nonfinite="drop")).__name__
    'SketchedSample'
    """

    other: Profile | None = None

    def columns_by_name(self) -> dict[str, Column]:
        other = self.other
        sketched = {c.name for c in other.profiles if c.sketched} if other is not None else set()
        return {s.name: FacingColumn(s, s.name in sketched) for s in self.frame.get_columns()}

    def segment(self, column: str, value: Any) -> FacingFrame:
        """The frame's rows in the segment, facing the profile's same segment."""
        other = self.other.segment(column, value) if self.other is not None else None
        return FacingFrame(self.frame.filter(pl.col(column) == value), other)


@dataclass(frozen=True, slots=True)
class FacingColumn(SeriesColumn):
    """A frame's column compared with a profile's; ``grid``: the profile's column is a sketch."""

    grid: bool = False

    def sample(self, family: DtypeFamily, *, side: str, nonfinite: str) -> Sample:
        if family is not DtypeFamily.NUMBER:
            return to_sample(self.series, family, side=side, nonfinite=nonfinite)
        sample = NumericSample.from_values(self.series.cast(pl.Float64).to_numpy())
        if sample.n_inf and nonfinite == "error":  # the engine's own line, naming the first row
            return to_sample(self.series, family, side=side, nonfinite=nonfinite)
        if self.grid and sample.n_valid > EXACT_MAX and sample.n_unique > DISTINCT_MAX:
            return SketchedSample.from_sorted(sample)
        return sample
