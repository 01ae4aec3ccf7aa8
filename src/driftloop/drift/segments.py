"""Segment drift: each value of a segment column compared with the same segment of the reference.

A shift confined to one segment (non-working days, one region) is diluted in the whole data; tested
inside the segment it stands out. Each segment's columns go through the same per-column analysis
as :func:`~driftloop.drift.detect` (the ``compare`` it is given); with ``fdr`` on, one
Benjamini-Hochberg adjustment spans every segment x column p-value, so more segments do not mean
more false alarms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from driftloop.drift.methods import Family
from driftloop.drift.results import ColumnDrift, SegmentDrift
from driftloop.drift.settings import DetectionSettings, SegmentSettings
from driftloop.errors import ConfigError, SchemaError

if TYPE_CHECKING:
    from driftloop.drift.table import Table

__all__ = ["MAX_SEGMENT_VALUES", "segment_drift"]

MAX_SEGMENT_VALUES = 100

Compare = Callable[[Any, Any, list[str]], list[ColumnDrift]]  # (reference, current) tables


def segment_drift(
    reference: Table,
    current: Table,
    names: Sequence[str],
    settings: DetectionSettings,
    compare: Compare,
) -> tuple[SegmentDrift, ...]:
    """Every configured segment of both samples, tested with ``compare`` (its ``names`` minus the
    segment column itself); adjusted together when ``settings.fdr``."""
    found = [
        _segment(reference, current, seg, value, [n for n in names if n != seg.column], compare)
        for seg in settings.segments
        for value in _values(reference, current, seg.column)
    ]
    if settings.fdr:
        found = _benjamini_hochberg(found)
    return tuple(_verdict(s, settings.drift_share) for s in found)


def _values(reference: Table, current: Table, column: str) -> list[object]:
    for side, table in (("reference", reference), ("current", current)):
        if column not in table.columns:
            raise SchemaError(
                f"Segment column '{column}' is not in the {side} data. "
                "Fix detection.segments or add the column."
            )
    values = set(reference.segment_values(column)) | set(current.segment_values(column))
    if len(values) > MAX_SEGMENT_VALUES:
        raise ConfigError(
            f"Segment column '{column}' has {len(values):,} distinct values; segments need at "
            f"most {MAX_SEGMENT_VALUES}. Segment on a coarser column (a region, a weekday flag)."
        )
    return sorted(values, key=lambda v: (str(type(v)), v))


def _segment(
    reference: Table,
    current: Table,
    seg: SegmentSettings,
    value: object,
    names: list[str],
    compare: Compare,
) -> SegmentDrift:
    ref = reference.segment(seg.column, value)
    cur = current.segment(seg.column, value)
    label = value if isinstance(value, str | int | float | bool) else str(value)
    found = SegmentDrift(seg.column, label, ref.height, cur.height, None, 0.0, False, ())
    if min(ref.height, cur.height) < seg.min_rows:
        reason = (
            f"too few rows ({ref.height} reference, {cur.height} current; "
            f"min_rows is {seg.min_rows})"
        )
        return replace(found, skipped=reason)
    columns = [replace(c, histogram=None) for c in compare(ref, cur, names)]
    return replace(found, columns=tuple(columns))


def _verdict(found: SegmentDrift, drift_share: float) -> SegmentDrift:
    tested = [c for c in found.columns if c.skipped is None]
    share = sum(c.drifted for c in tested) / len(tested) if tested else 0.0
    return replace(found, share_drifted=share, dataset_drift=bool(tested) and share >= drift_share)


def _benjamini_hochberg(segments: list[SegmentDrift]) -> list[SegmentDrift]:
    """Judge every segment x column p-value on one Benjamini-Hochberg adjustment."""
    where = [
        (i, j)
        for i, s in enumerate(segments)
        for j, c in enumerate(s.columns)
        if c.family == Family.P_VALUE and c.p_value is not None
    ]
    if not where:
        return segments
    from scipy import stats  # deferred: importing scipy.stats costs ~0.5 s

    p_values = [segments[i].columns[j].p_value for i, j in where]
    adjusted = stats.false_discovery_control(p_values, method="bh")
    columns = [list(s.columns) for s in segments]
    for (i, j), p_adj in zip(where, adjusted, strict=True):
        c = columns[i][j]
        columns[i][j] = replace(c, p_adjusted=float(p_adj), drifted=bool(p_adj < c.threshold))
    return [replace(s, columns=tuple(cs)) for s, cs in zip(segments, columns, strict=True)]
