"""A reference profile: every column's mergeable summary, built from a frame or from batches.

``profile(frame)`` summarises a frame; ``profile_batches(batches)`` a stream of them (Arrow
record batches or frames, e.g. a dataset read batch by batch), holding one batch at a time;
``merge(a, b)`` equals the profile of both sources' rows together: exactly for row, null and inf
counts, extremes, moments (up to floating-point rounding) and category counts, within the sketch's
rank error for quantiles. A profile is one side of :func:`driftloop.detect`, like a data frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from driftloop.errors import EmptyDataError, ProfileError
from driftloop.profiles.column import ColumnProfile

__all__ = ["Profile", "merge", "merge_profiles", "profile", "profile_batches"]


@dataclass(frozen=True, slots=True)
class Profile:
    """Column profiles in the source's order, and the source's row count.

    Examples
    --------
    >>> p = profile(pl.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]}))
    >>> p.columns, p.height, p.column("c").labels.labels
    (['x', 'c'], 2, ('a', 'b'))
    """

    profiles: tuple[ColumnProfile, ...]
    n_rows: int

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


def profile(data: Any, *, columns: list[str] | None = None) -> Profile:
    """Profile a pandas or Polars frame or an Arrow table."""
    from driftloop.drift.frames import as_polars

    frame = as_polars(data, "profiled")
    if columns is not None:
        frame = frame.select(columns)
    return Profile(tuple(ColumnProfile.from_series(s) for s in frame.get_columns()), frame.height)


def profile_batches(batches: Iterable[Any]) -> Profile:
    """Profile a stream of batches (Arrow record batches or tables, or Polars frames)."""
    from driftloop.drift.frames import durations_in_seconds

    result: Profile | None = None
    for batch in batches:
        frame = batch if isinstance(batch, pl.DataFrame) else pl.DataFrame(pl.from_arrow(batch))
        frame = durations_in_seconds(frame)  # as detect reads them
        if frame.height == 0:
            continue
        part = Profile(
            tuple(ColumnProfile.from_series(s) for s in frame.get_columns()), frame.height
        )
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
    if set(a.columns) != set(b.columns):
        only_a = sorted(set(a.columns) - set(b.columns))
        only_b = sorted(set(b.columns) - set(a.columns))
        raise ProfileError(
            "Profiles with different columns cannot be merged (only in the first: "
            f"{', '.join(only_a) or '-'}; only in the second: {', '.join(only_b) or '-'}). "
            "Profile sources with the same columns."
        )
    merged = tuple(x.merge(b.column(x.name)) for x in a.profiles)  # columns in a's order
    return Profile(merged, a.n_rows + b.n_rows)


merge_profiles = merge  # the name ``driftloop.merge_profiles`` exports
