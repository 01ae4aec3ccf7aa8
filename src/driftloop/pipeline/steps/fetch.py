"""The two fetch steps: the reference and the current window into the run's folder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from driftloop.pipeline.steps.context import RunContext
from driftloop.pipeline.steps.result import StepResult

__all__ = ["FetchResult", "fetch_current", "fetch_reference"]


@dataclass(frozen=True, slots=True)
class FetchResult(StepResult):
    """How much was read, and over which window (None: the source's whole table)."""

    rows: int
    columns: int
    window_start: str | None = None
    window_end: str | None = None

    def summary(self) -> str:
        return f"{self.rows} rows"


def fetch_reference(ctx: RunContext) -> FetchResult:
    """Read the reference into the run folder: its own fixed window, or the run's window moved
    back ``lag_days`` (e.g. the same weeks last year, for seasonal data)."""
    from driftloop.data.sources import read_source

    source = ctx.config.reference
    if source.profile is not None:
        return _copy_profile(ctx, source.profile)
    start = end = None
    if source.lag_days is not None and ctx.start is not None and ctx.end is not None:
        lag = dt.timedelta(days=source.lag_days)
        start, end = ctx.start - lag, ctx.end - lag
    frame = read_source(source, start, end)
    frame.write_parquet(ctx.file("reference.parquet"))
    if start is None:
        return FetchResult(frame.height, frame.width)
    return FetchResult(frame.height, frame.width, str(start), str(end))


def _copy_profile(ctx: RunContext, path: str) -> FetchResult:
    """A profile reference: checked (format, version) and copied into the run folder, so the
    run keeps the reference it was judged against."""
    import shutil

    from driftloop.profiles.fileformat import load_profile

    profile = load_profile(path)
    shutil.copyfile(path, ctx.file("reference.profile"))
    return FetchResult(profile.height, len(profile.columns))


def fetch_current(ctx: RunContext) -> FetchResult:
    """Read the current window; an empty window raises EmptyDataError (an empty run)."""
    from driftloop.data.sources import read_source

    frame = read_source(ctx.config.current, ctx.start, ctx.end)
    frame.write_parquet(ctx.file("current.parquet"))
    return FetchResult(frame.height, frame.width, *ctx.window)
