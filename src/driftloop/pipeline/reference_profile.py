"""A stored reference profile: built once from the reference source, reused, rebuilt on change.

``reference: {uri | url..., profile: PATH_OR_S3_URI, rebuild: auto | always | never}``:

- ``auto`` (default): reuse the stored profile while the source's fingerprint
  (:mod:`driftloop.data.fingerprint`) equals the one stored with it; rebuild when it changed, when
  nothing is stored, when the stored file is unreadable (corrupt, truncated, another format), or
  when the source has no fingerprint (an http server without ETag or Last-Modified);
- ``always``: rebuild on every run (the fingerprint is still stored);
- ``never``: build once, then use the stored profile whatever the source does; an unreadable
  stored profile is then an error (one line), not silently rebuilt;
- ``driftloop run --rebuild-profile`` rebuilds whatever ``rebuild`` says.

A local Parquet source is profiled out of core, one row group at a time
(:func:`driftloop.profiles.reading.profile_source`); other sources are read through the data layer
and profiled in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from driftloop.errors import ProfileError
from driftloop.profiles.options import ProfileOptions

if TYPE_CHECKING:
    from driftloop.config import SourceConfig
    from driftloop.data.fingerprint import Fingerprint
    from driftloop.pipeline.baseline import Bounds
    from driftloop.profiles.dataset import Profile

__all__ = ["Resolved", "resolve_profile"]


@dataclass(frozen=True, slots=True)
class Resolved:
    """The reference profile's bytes and what was done: ``reused`` or ``built``, and why."""

    data: bytes
    profile: Profile
    action: str
    reason: str


def resolve_profile(
    source: SourceConfig,
    *,
    force: bool = False,
    endpoint_url: str | None = None,
    options: ProfileOptions | None = None,
) -> Resolved:
    """The stored profile of ``source``, reused or (re)built and stored (module docstring);
    ``options`` says what it keeps (the run's ``detection.segments`` columns): a stored profile
    segmented by other columns is rebuilt."""
    options = options or ProfileOptions()
    from driftloop.data.fingerprint import fingerprint
    from driftloop.pipeline.profile_store import read_stored, write_stored

    location = str(source.profile)
    mode = source.rebuild or "auto"
    try:
        stored = read_stored(location, endpoint_url)
        unreadable = ""
    except ProfileError as err:
        if mode == "never" and not force:
            raise ProfileError(
                f"{err} reference.rebuild is 'never': rebuild it with `driftloop run "
                "--rebuild-profile`, or set rebuild: auto."
            ) from None
        stored, unreadable = None, "the stored profile was unreadable"
    fresh = mode != "never" or stored is None or force
    current = fingerprint(source, updated_column=source.updated_column) if fresh else None
    reason = _rebuild_reason(mode, force, stored is not None, unreadable, current, stored)
    if reason is None and stored is not None:
        reason = _segments_changed(stored.profile, options) or _sample_short(
            stored.profile, options
        )
    if reason is None and stored is not None:
        return Resolved(stored.data, stored.profile, "reused", "source unchanged")
    built = build_profile(source, options)
    data = write_stored(built, current, location, endpoint_url)
    return Resolved(data, built, "built", reason or "nothing stored yet")


def _rebuild_reason(
    mode: str,
    force: bool,
    exists: bool,
    unreadable: str,
    current: Fingerprint | None,
    stored: object,
) -> str | None:
    """Why the profile is rebuilt (None: reuse the stored one)."""
    if force:
        return "--rebuild-profile"
    if unreadable:
        return unreadable
    if not exists:
        return "nothing stored yet"
    if mode == "always":
        return "rebuild: always"
    if mode == "never":
        return None
    if current is None:
        return "the source has no fingerprint (no ETag or Last-Modified)"
    before = getattr(stored, "fingerprint", None)
    if before != current:
        return "the source changed" + _change(before, current)
    return None


def _segments_changed(stored: Profile, options: ProfileOptions) -> str | None:
    """Why a stored profile kept under other segment columns is rebuilt (None: it fits)."""
    kept, wanted = sorted(stored.segments), sorted(options.segment_by)
    if kept == wanted:
        return None
    before, after = ", ".join(kept) or "none", ", ".join(wanted) or "none"
    return f"the segment columns changed ({before} -> {after})"


def _sample_short(stored: Profile, options: ProfileOptions) -> str | None:
    """Why a stored profile whose row sample is smaller than asked is rebuilt (None: it fits)."""
    kept = 0 if stored.sample is None else stored.sample.k
    if kept >= options.sample_rows:
        return None
    return f"the row sample is smaller than asked ({kept:,} < {options.sample_rows:,} rows)"


def _change(before: Fingerprint | None, after: Fingerprint) -> str:
    """`` (rows 31 -> 45)``: what moved, for the run's line."""
    if before is None:
        return " (no fingerprint stored)"
    moved = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    shown = [
        f"{k} {before.get(k)} -> {after.get(k)}"
        for k in moved
        if k in ("rows", "last_date", "last_update")
    ]
    return f" ({', '.join(shown or moved)})"


def build_profile(source: SourceConfig, options: ProfileOptions | None = None) -> Profile:
    """Profile the reference source's fixed window (exclusions cut out), keeping what
    ``options`` says beyond the columns."""
    from driftloop.pipeline.baseline import baseline_of, reference_windows
    from driftloop.pipeline.baseline_rows import read_windows
    from driftloop.profiles.dataset import profile

    options = options or ProfileOptions()
    baseline = baseline_of(source)
    windows = reference_windows(baseline, None, (source.start, source.end))
    if _local_parquet(source) or source.url is not None:
        return _profile_streamed(source, windows or [(source.start, source.end)], options)
    rows = read_windows(source, windows, baseline.type)
    return profile(rows, sample_rows=options.sample_rows, segment_by=options.segment_by)


def _local_parquet(source: SourceConfig) -> bool:
    uri = source.uri or ""
    return "://" not in uri and Path(uri).suffix.lower() in (".parquet", ".pq")


def _profile_streamed(
    source: SourceConfig, windows: list[Bounds], options: ProfileOptions
) -> Profile:
    """Each window profiled out of core, merged: a local Parquet file one row group at a time, a
    database table or query in server-side batches (``profile_source``'s end is exclusive)."""
    from driftloop.errors import EmptyDataError
    from driftloop.profiles.dataset import merge
    from driftloop.profiles.reading import profile_source

    column = source.date_column
    result = None
    for start, end in windows if column else [(None, None)]:
        after = None if end is None else end + dt.timedelta(days=1)
        try:
            part = profile_source(
                source.url.get_secret_value() if source.url is not None else str(source.uri),
                table=source.table,
                query=source.query,
                date_column=column,
                start=start,
                end=after,
                options=options,
            )
        except EmptyDataError:
            continue
        result = part if result is None else merge(result, part)
    if result is None:
        raise EmptyDataError(
            f"The reference {source.table or source.uri or 'query'} has no rows in its window. "
            "Check reference.start/end."
        )
    return result
