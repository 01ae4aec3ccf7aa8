"""The two fetch steps: the reference and the current window into the run's folder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from driftloop.pipeline.baseline_rows import read_windows
from driftloop.pipeline.steps.context import RunContext
from driftloop.pipeline.steps.result import StepResult

if TYPE_CHECKING:
    import polars as pl

    from driftloop.pipeline.baseline import Bounds

__all__ = ["FetchResult", "fetch_current", "fetch_reference", "read_windows"]


@dataclass(frozen=True, slots=True)
class FetchResult(StepResult):
    """How much was read, and over which window (None: the source's whole table)."""

    rows: int
    columns: int
    window_start: str | None = None
    window_end: str | None = None
    profile: str = ""  # a profile reference: given, reused or built ("": rows were read)
    profile_reason: str = ""  # why it was built or reused

    def summary(self) -> str:
        if not self.profile:
            return f"{self.rows} rows"
        why = f" ({self.profile_reason})" if self.profile_reason else ""
        return f"{self.rows} rows; profile {self.profile}{why}"


def fetch_reference(ctx: RunContext) -> FetchResult:
    """Read the reference into the run folder: the windows of its baseline (``fixed``: its own
    window; ``lag``, ``same_period``, ``trailing``: relative to the run's window), pooled, with
    the ``exclude`` ranges left out."""

    source = ctx.config.reference
    if source.stored_profile:
        return _stored_profile(ctx)
    if source.profile is not None:
        return _copy_profile(ctx, source.profile)
    frame, windows = reference_rows(ctx)
    if windows is None:
        return FetchResult(frame.height, frame.width)
    starts, ends = [w[0] for w in windows], [w[1] for w in windows]
    first = None if None in starts else str(min(d for d in starts if d is not None))
    last = None if None in ends else str(max(d for d in ends if d is not None))
    return FetchResult(frame.height, frame.width, first, last)


def reference_rows(ctx: RunContext) -> tuple[pl.DataFrame, list[Bounds] | None]:
    """The reference's rows for this run's window (its baseline's windows, pooled), written to
    the run folder as ``reference.parquet``; and the windows read."""
    from driftloop.pipeline.baseline import baseline_of, reference_windows

    source = ctx.config.reference
    baseline = baseline_of(source)
    run = (ctx.start, ctx.end) if ctx.start is not None and ctx.end is not None else None
    windows = reference_windows(baseline, run, (source.start, source.end))
    frame = read_windows(source, windows, baseline.type)
    frame.write_parquet(ctx.file("reference.parquet"))
    return frame, windows


def _copy_profile(ctx: RunContext, path: str) -> FetchResult:
    """A given profile file (a path or s3:// URI): checked (format, version) and copied into
    the run folder, so the run keeps the reference it was judged against."""
    from driftloop.pipeline.profile_store import read_stored

    stored = read_stored(path, ctx.config.stores.s3_endpoint_url)
    if stored is None:
        from driftloop.errors import ProfileError

        raise ProfileError(f"Profile file {path} does not exist. Check reference.profile.")
    _keep(ctx, stored.data)
    return FetchResult(stored.profile.height, len(stored.profile.columns), profile="given")


def _stored_profile(ctx: RunContext) -> FetchResult:
    """The source's stored profile, reused or rebuilt (:mod:`driftloop.pipeline.reference_profile`),
    copied into the run folder."""
    from driftloop.pipeline.reference_profile import resolve_profile
    from driftloop.pipeline.window_profile import detection_profile_options

    source = ctx.config.reference
    found = resolve_profile(
        source,
        force=ctx.rebuild_profile,
        endpoint_url=ctx.config.stores.s3_endpoint_url,
        options=detection_profile_options(ctx.config),
    )
    _keep(ctx, found.data)
    start, end = (None if day is None else str(day) for day in (source.start, source.end))
    columns = len(found.profile.columns)
    return FetchResult(found.profile.height, columns, start, end, found.action, found.reason)


def _keep(ctx: RunContext, data: bytes) -> None:
    """The profile the run is judged against, in its folder (temporary name, then renamed)."""
    import os

    target = ctx.file("reference.profile")
    partial = target.with_name(".reference.profile.partial")
    partial.write_bytes(data)
    os.replace(partial, target)


def fetch_current(ctx: RunContext) -> FetchResult:
    """Read the current window (or, under ``current.engine`` streamed or spark, profile it out
    of core into ``current.profile``); an empty window raises EmptyDataError (an empty run)."""
    from driftloop.data.sources import read_source

    if ctx.config.current.engine != "rows":
        return _profiled_window(ctx)
    frame = read_source(ctx.config.current, ctx.start, ctx.end)
    frame.write_parquet(ctx.file("current.parquet"))
    return FetchResult(frame.height, frame.width, *ctx.window)


def _profiled_window(ctx: RunContext) -> FetchResult:
    from driftloop.pipeline.window_profile import profile_window
    from driftloop.profiles.fileformat import save_profile

    found = profile_window(ctx.config, ctx.start, ctx.end)
    save_profile(found, ctx.file("current.profile"))  # atomic
    engine = ctx.config.current.engine
    return FetchResult(found.height, len(found.columns), *ctx.window, profile=engine)
