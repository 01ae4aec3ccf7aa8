"""The reference windows of a baseline: which dates the reference reads for a run's window.

Pure date arithmetic; the fetch_reference step reads each window through the source (pushed
down to SQL or the file filter) and pools them.
"""

from __future__ import annotations

import datetime as dt

from driftloop.config import BaselineConfig, DateRange, SourceConfig

__all__ = ["baseline_of", "reference_windows"]

Window = tuple[dt.date, dt.date]
Bounds = tuple[dt.date | None, dt.date | None]  # None: unbounded on that side


def baseline_of(source: SourceConfig) -> BaselineConfig:
    """The source's baseline; ``lag_days: N`` is ``{type: lag, days: N}``."""
    if source.baseline is not None:
        return source.baseline
    if source.lag_days is not None:
        return BaselineConfig(type="lag", days=source.lag_days)
    return BaselineConfig()


def reference_windows(
    baseline: BaselineConfig, run: Window | None, own: Bounds
) -> list[Bounds] | None:
    """The windows to read, exclusions cut out; None: the source's own window, unchanged.

    Examples
    --------
    >>> run = (dt.date(2012, 3, 1), dt.date(2012, 3, 31))
    >>> def show(b):
    ...     return [f"{a}..{z}" for a, z in reference_windows(b, run, (None, None))]
    >>> show(BaselineConfig(type="same_period", years=2))
    ['2011-03-01..2011-03-31', '2010-03-01..2010-03-31']
    >>> show(BaselineConfig(type="trailing", days=28, offset_days=7))
    ['2012-01-26..2012-02-22']
    >>> holiday = {"start": "2011-03-10", "end": "2011-03-12"}
    >>> show(BaselineConfig(type="lag", days=366, exclude=[holiday]))
    ['2011-03-01..2011-03-09', '2011-03-13..2011-03-31']
    """
    windows = _windows(baseline, run, own)
    if windows is None:
        return None
    return [piece for window in windows for piece in _cut(window, baseline.exclude)]


def _windows(baseline: BaselineConfig, run: Window | None, own: Bounds) -> list[Bounds] | None:
    if baseline.type == "fixed" or run is None:
        return [own] if baseline.exclude else None
    start, end = run
    if baseline.type == "lag":
        lag = dt.timedelta(days=baseline.days or 0)
        return [(start - lag, end - lag)]
    if baseline.type == "same_period":
        return [(_years_back(start, k), _years_back(end, k)) for k in range(1, baseline.years + 1)]
    last = start - dt.timedelta(days=1 + baseline.offset_days)
    return [(last - dt.timedelta(days=(baseline.days or 1) - 1), last)]


def _years_back(day: dt.date, years: int) -> dt.date:
    """The same date ``years`` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _cut(window: Bounds, exclude: list[DateRange]) -> list[Bounds]:
    """``window`` without the dates of any ``exclude`` range (ranges do not overlap)."""
    pieces: list[Bounds] = []
    start, end = window
    one = dt.timedelta(days=1)
    for r in sorted(exclude, key=lambda r: r.start):
        if (start is not None and r.end < start) or (end is not None and r.start > end):
            continue
        if start is None or r.start > start:
            pieces.append((start, r.start - one))
        if end is not None and r.end >= end:
            return pieces
        start = r.end + one
    return [*pieces, (start, end)]
