"""A reference profile: every column's mergeable summary, built from a frame or from batches.

``profile(frame)`` summarises a frame; ``profile_batches(batches)`` a stream of them (Arrow
record batches or frames, e.g. a dataset read batch by batch), holding one batch at a time;
``merge(a, b)`` equals the profile of both sources' rows together: exactly for row, null and inf
counts, extremes, moments (up to floating-point rounding), category counts and the row sample
(``rowsample``: up to ``sample_rows`` whole rows, for the checks that need rows), within the
sketch's rank error for quantiles. With ``segment_by`` (``options.ProfileOptions``), each value
of each segment column keeps a profile of its own rows, merged the same way, so
``detection.segments`` runs against the profile. A profile is one side of
:func:`driftloop.detect`, like a data frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from driftloop.errors import ConfigError, EmptyDataError, ProfileError, SchemaError
from driftloop.profiles.column import ColumnProfile
from driftloop.profiles.options import MAX_SEGMENT_VALUES, ProfileOptions
from driftloop.profiles.rowsample import SAMPLE_ROWS, RowSample

__all__ = ["Profile", "merge", "merge_profiles", "profile", "profile_batches"]

Segments = dict[str, dict[Any, "Profile"]]  # segment column -> value -> that value's profile


@dataclass(frozen=True, slots=True)
class Profile:
    """Column profiles in the source's order, and the source's row count.

    Examples
    --------
    >>> p = profile(pl.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]}))
    >>> p.columns, p.height, p.column("c").labels.labels
    (['x', 'c'], 2, ('a', 'b'))
    >>> s = profile(pl.DataFrame({"x": [1.0, 2.0, 3.0], "g": [0, 1, 1]}), segment_by=["g"])
    >>> s.segment_values("g"), s.segment("g", 1).height
    ([0, 1], 2)
    """

    profiles: tuple[ColumnProfile, ...]
    n_rows: int
    sample: RowSample | None = None  # a uniform sample of whole rows (None: built without one)
    segments: Segments = field(default_factory=dict, compare=False)

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.profiles]

    @property
    def height(self) -> int:
        return self.n_rows

    def column(self, name: str) -> ColumnProfile:
        for c in self.profiles:
            if c.name == name:
                return c
        raise ProfileError(
            f"Column '{name}' is not in the profile. Profile columns: {', '.join(self.columns)}."
        )

    def columns_by_name(self) -> dict[str, Any]:
        return {c.name: c for c in self.profiles}

    def merge(self, other: Profile) -> Profile:
        return merge(self, other)

    def with_sample_rows(self, rows: int) -> Profile:
        """This profile with a row sample of at most ``rows`` rows (0: none); a sample only
        shrinks (a larger one needs the rows: build with ``sample_rows``)."""
        ProfileOptions(sample_rows=rows)  # checks the value
        if self.sample is None or rows == 0:
            return replace(self, sample=None)
        return replace(self, sample=self.sample.shrunk(rows))

    def segment_values(self, column: str) -> list[Any]:
        """The values of segment column ``column`` the profile kept, sorted."""
        if column not in self.segments:
            kept = ", ".join(self.segments) or "none"
            raise ConfigError(
                f"detection.segments names '{column}', and the reference profile keeps no "
                f"segments by it (its segment columns: {kept}). Rebuild it with "
                f"`driftloop profile build ... --segment-by {column}`."
            )
        return sorted(self.segments[column])

    def segment(self, column: str, value: Any) -> Profile:
        """The profile of the rows where ``column`` is ``value`` (empty where there were none)."""
        found = self.segments.get(column, {}).get(value)
        return found if found is not None else Profile((), 0)


def profile(
    data: Any,
    *,
    columns: list[str] | None = None,
    sample_rows: int = SAMPLE_ROWS,
    segment_by: Iterable[str] = (),
) -> Profile:
    """Profile a pandas or Polars frame or an Arrow table, keeping a uniform sample of up to
    ``sample_rows`` whole rows (0: none) and a profile per value of each ``segment_by`` column."""
    from driftloop.drift.frames import as_polars

    options = ProfileOptions(sample_rows, tuple(segment_by))
    frame = as_polars(data, "profiled")
    if columns is not None:
        frame = frame.select(list(dict.fromkeys([*columns, *options.segment_by])))
    return profile_of(frame, options)


def profile_of(frame: pl.DataFrame, options: ProfileOptions) -> Profile:
    """The profile of one frame's rows under ``options``."""
    sample = RowSample.of_frame(frame, options.sample_rows) if options.sample_rows else None
    segments = {c: _segments_of(frame, c, options) for c in options.segment_by}
    return Profile(_whole_columns(frame, segments, options), frame.height, sample, segments)


def _whole_columns(
    frame: pl.DataFrame, segments: Segments, options: ProfileOptions
) -> tuple[ColumnProfile, ...]:
    """The frame's column profiles. With segments, merged from the first segment column's parts
    and its null rows, so that each row is summarised once, not once more for the whole."""
    if not options.segment_by:
        return tuple(ColumnProfile.from_series(s) for s in frame.get_columns())
    column = options.segment_by[0]
    parts = list(segments[column].values())
    nulls = frame.filter(pl.col(column).is_null())
    if nulls.height or not parts:
        parts.append(profile_of(nulls, options.of_segment))
    whole = parts[0]
    for part in parts[1:]:
        whole = merge(whole, part)
    return whole.profiles


def _segments_of(frame: pl.DataFrame, column: str, options: ProfileOptions) -> dict[Any, Profile]:
    if column not in frame.columns:
        raise SchemaError(
            f"Segment column '{column}' is not in the profiled data (columns: "
            f"{', '.join(frame.columns[:12])}). Fix --segment-by."
        )
    dtype = frame.schema[column]
    if not (dtype.is_integer() or dtype in (pl.String, pl.Boolean, pl.Categorical)):
        raise ConfigError(
            f"Segment column '{column}' has dtype {dtype}; segments are kept by integer, string "
            "or boolean values. Segment by such a column (e.g. a region code)."
        )
    order = frame.get_column(column).arg_sort(nulls_last=True)
    ordered_keys = frame.get_column(column).gather(order)
    runs = ordered_keys.rle().struct.unnest().filter(pl.col("value").is_not_null())
    if runs.height > MAX_SEGMENT_VALUES:
        raise ConfigError(
            f"Segment column '{column}' has {runs.height:,} distinct values; segments need at "
            f"most {MAX_SEGMENT_VALUES}. Segment by a coarser column."
        )
    lengths = runs.get_column("len").to_list()
    offsets = [sum(lengths[:i]) for i in range(len(lengths))]
    columns: list[list[ColumnProfile]] = [[] for _ in lengths]
    for series in frame.get_columns():  # one column reordered at a time: memory of one column
        ordered = series.gather(order)
        for i, (offset, n) in enumerate(zip(offsets, lengths, strict=True)):
            columns[i].append(ColumnProfile.from_series(ordered.slice(offset, n)))
    values = runs.get_column("value").to_list()
    parts = {v: Profile(tuple(c), n) for v, c, n in zip(values, columns, lengths, strict=True)}
    return {value: parts[value] for value in sorted(parts)}


def profile_batches(batches: Iterable[Any], *, options: ProfileOptions | None = None) -> Profile:
    """Profile a stream of batches (Arrow record batches or tables, or Polars frames)."""
    from driftloop.drift.frames import durations_in_seconds

    options = options or ProfileOptions()
    result: Profile | None = None
    for batch in batches:
        frame = batch if isinstance(batch, pl.DataFrame) else pl.DataFrame(pl.from_arrow(batch))
        frame = durations_in_seconds(frame)  # as detect reads them
        if frame.height == 0:
            continue
        part = profile_of(frame, options)
        result = part if result is None else merge(result, part)
    if result is None:
        raise EmptyDataError("The profiled source has no rows. Point it at data with rows.")
    return result


def merge(a: Profile, b: Profile) -> Profile:
    """The profile of both profiles' rows together (see the module docstring).

    Examples
    --------
    >>> a = profile(pl.DataFrame({"x": [1.0, 2.0]}))
    >>> b = profile(pl.DataFrame({"x": [3.0]}))
    >>> m = merge(a, b)
    >>> m.height, m.column("x").numeric.values.tolist()
    (3, [1.0, 2.0, 3.0])
    """
    if a.height == 0 and not a.profiles:  # an empty segment's profile
        return b
    if b.height == 0 and not b.profiles:
        return a
    if set(a.columns) != set(b.columns):
        only_a = sorted(set(a.columns) - set(b.columns))
        only_b = sorted(set(b.columns) - set(a.columns))
        raise ProfileError(
            "Profiles with different columns cannot be merged (only in the first: "
            f"{', '.join(only_a) or '-'}; only in the second: {', '.join(only_b) or '-'}). "
            "Profile sources with the same columns."
        )
    if set(a.segments) != set(b.segments):
        raise ProfileError(
            "Profiles with different segment columns cannot be merged (first: "
            f"{', '.join(a.segments) or 'none'}; second: {', '.join(b.segments) or 'none'}). "
            "Build both with the same --segment-by."
        )
    merged = tuple(x.merge(b.column(x.name)) for x in a.profiles)  # columns in a's order
    sample = a.sample.merge(b.sample) if a.sample is not None and b.sample is not None else None
    segments = {c: _merged_segments(a.segments[c], b.segments[c]) for c in a.segments}
    return Profile(merged, a.n_rows + b.n_rows, sample, segments)


def _merged_segments(a: dict[Any, Profile], b: dict[Any, Profile]) -> dict[Any, Profile]:
    merged = {**a}
    for value, part in b.items():
        merged[value] = merge(merged[value], part) if value in merged else part
    if len(merged) > MAX_SEGMENT_VALUES:
        raise ConfigError(
            f"The merged profile's segments hold {len(merged):,} values of one column; segments "
            f"need at most {MAX_SEGMENT_VALUES}. Segment by a coarser column."
        )
    return merged


merge_profiles = merge  # the name ``driftloop.merge_profiles`` exports
