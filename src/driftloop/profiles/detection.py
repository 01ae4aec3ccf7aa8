"""``detect`` with a profile on either side (or both), or data frames as before.

A profile is read column by column as the engine reads a frame (:meth:`ColumnProfile.sample`):
verdicts from profiles that keep exact values (up to 4,096 values a column, or few distinct
values) are those of the frames themselves; from sketched columns each statistic carries the
error documented in :mod:`driftloop.drift.sketched`.

A data frame facing a profile is read exactly (its finite values sorted, its labels counted), so a
statistic's error comes from the profile's side alone. Its numbers are sorted by numpy: sorting is
most of a frame side's cost, and numpy's vectorised sort of 1M doubles takes about a third of the
time of Polars' here (``benchmarks/bench_profile.py``). Against a sketch, searching the data in the
sketch's grid instead of sorting it gives the same statistic but costs more (a binary search per
value).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import polars as pl

from driftloop.drift.columns import DtypeFamily
from driftloop.drift.detection import Column, FrameTable, SeriesColumn, Table, detect_tables
from driftloop.drift.frames import as_polars, to_sample
from driftloop.drift.results import DriftReport
from driftloop.drift.samples import NumericSample, Sample
from driftloop.drift.settings import DetectionSettings, load_settings
from driftloop.errors import SchemaError
from driftloop.profiles.dataset import Profile

__all__ = ["detect"]


def detect(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[str] | None = None,
    config: DetectionSettings | dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DriftReport:
    """:func:`driftloop.drift.detection.detect`, where either side may be a :class:`Profile`.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> from driftloop.profiles import profile
    >>> rng = np.random.default_rng(0)
    >>> ref = pl.DataFrame({"x": rng.normal(size=500)})
    >>> cur = pl.DataFrame({"x": rng.normal(1.0, size=500)})
    >>> detect(profile(ref), cur).column("x").p_value == detect(ref, cur).column("x").p_value
    True
    """
    if not isinstance(reference, Profile) and not isinstance(current, Profile):
        from driftloop.drift.detection import detect as detect_frames

        return detect_frames(reference, current, columns=columns, config=config, progress=progress)
    started = time.perf_counter()
    settings = load_settings(config)
    ref, cur = _table(reference, "reference"), _table(current, "current")
    if settings.strict_schema:
        _compare_dtypes(ref, cur, columns)
    report = detect_tables(
        ref, cur, columns=columns, settings=settings, progress=progress, started=started
    )
    return replace(report, reference_source=_source(reference), current_source=_source(current))


def _source(side: Any) -> str:
    return "profile" if isinstance(side, Profile) else "data"


def _table(side: Any, name: str) -> Table:
    return side if isinstance(side, Profile) else _FacingFrame(as_polars(side, name))


class _FacingFrame(FrameTable):
    """A data frame compared with a profile (see the module docstring)."""

    __slots__ = ()

    def columns_by_name(self) -> dict[str, Column]:
        return {s.name: _FacingColumn(s) for s in self.frame.get_columns()}


class _FacingColumn(SeriesColumn):
    """A frame's column compared with a profile: its numbers sorted by numpy."""

    __slots__ = ()

    def sample(self, family: DtypeFamily, *, side: str, nonfinite: str) -> Sample:
        if family is not DtypeFamily.NUMBER:
            return to_sample(self.series, family, side=side, nonfinite=nonfinite)
        sample = NumericSample.from_values(self.series.cast(pl.Float64).to_numpy())
        if sample.n_inf and nonfinite == "error":  # the engine's own line, naming the first row
            return to_sample(self.series, family, side=side, nonfinite=nonfinite)
        return sample


def _compare_dtypes(ref: Table, cur: Table, columns: Sequence[str] | None) -> None:
    ref_columns, cur_columns = ref.columns_by_name(), cur.columns_by_name()
    names = list(columns) if columns is not None else ref.columns
    changed = [
        f"{n} ({ref_columns[n].dtype_text} -> {cur_columns[n].dtype_text})"
        for n in names
        if n in ref_columns
        and n in cur_columns
        and ref_columns[n].dtype_text != cur_columns[n].dtype_text
    ]
    missing = [n for n in names if n in ref_columns and n not in cur_columns]
    if changed or missing:
        parts = ([f"dtype changed: {', '.join(changed)}"] if changed else []) + (
            [f"missing: {', '.join(missing)}"] if missing else []
        )
        raise SchemaError(
            f"strict_schema: the current side differs from the reference ({'; '.join(parts)}). "
            "Fix the source or turn strict_schema off."
        )
