"""``detect`` with a profile on either side (or both), or data frames as before.

A profile is read column by column as the engine reads a frame (:meth:`ColumnProfile.sample`):
verdicts from profiles that keep exact values (up to 4,096 values a column, or few distinct
values) are those of the frames themselves; from sketched columns each statistic carries the
error documented in :mod:`driftloop.drift.sketched`.

A data frame facing a profile is read as :mod:`driftloop.profiles.facing` says (sorted by numpy,
and reduced to an exact quantile grid where the profile's column is a sketch).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from driftloop.drift.detection import Table, detect_tables
from driftloop.drift.frames import as_polars
from driftloop.drift.results import DriftReport
from driftloop.drift.settings import DetectionSettings, load_settings
from driftloop.errors import SchemaError
from driftloop.profiles.dataset import Profile
from driftloop.profiles.facing import FacingFrame

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
    ref = _table(reference, "reference", current)
    cur = _table(current, "current", reference)
    if settings.strict_schema:
        _compare_dtypes(ref, cur, columns)
    report = detect_tables(
        ref, cur, columns=columns, settings=settings, progress=progress, started=started
    )
    return replace(report, reference_source=_source(reference), current_source=_source(current))


def _source(side: Any) -> str:
    return "profile" if isinstance(side, Profile) else "data"


def _table(side: Any, name: str, other: Any) -> Table:
    return side if isinstance(side, Profile) else FacingFrame(as_polars(side, name), other)


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
