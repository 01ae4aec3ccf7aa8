"""A reference profile: every column's mergeable summary, built from a frame or from batches.

``profile(frame)`` summarises a frame; ``profile_batches(batches)`` a stream of them (Arrow
record batches or frames, e.g. a dataset read batch by batch), holding one batch at a time;
``merge(a, b)`` equals the profile of both sources' rows together: exactly for row, null and inf
counts, extremes, moments (up to floating-point rounding), category counts and the row sample
(``rowsample``: up to ``sample_rows`` whole rows, for the checks that need rows), within the
sketch's rank error for quantiles. A profile is one side of :func:`driftloop.detect`, like a
data frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from driftloop.errors import EmptyDataError, ProfileError
from driftloop.profiles.column import ColumnProfile
from driftloop.profiles.rowsample import SAMPLE_ROWS, RowSample

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
    sample: RowSample | None = None  # a uniform sample of whole rows (None: built without one)

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
        from dataclasses import replace

        _check_sample_rows(rows)
        if self.sample is None or rows == 0:
            return replace(self, sample=None)
        return replace(self, sample=self.sample.shrunk(rows))


def profile(
    data: Any, *, columns: list[str] | None = None, sample_rows: int = SAMPLE_ROWS
) -> Profile:
    """Profile a pandas or Polars frame or an Arrow table, keeping a uniform sample of up to
    ``sample_rows`` whole rows (0: none)."""
    from driftloop.drift.frames import as_polars

    frame = as_polars(data, "profiled")
    if columns is not None:
        frame = frame.select(columns)
    return _profile_of(frame, sample_rows)


def _profile_of(frame: pl.DataFrame, sample_rows: int) -> Profile:
    _check_sample_rows(sample_rows)
    sample = RowSample.of_frame(frame, sample_rows) if sample_rows else None
    columns = tuple(ColumnProfile.from_series(s) for s in frame.get_columns())
    return Profile(columns, frame.height, sample)


def _check_sample_rows(sample_rows: int) -> None:
    if isinstance(sample_rows, bool) or not isinstance(sample_rows, int) or sample_rows < 0:
        raise ProfileError(
            f"sample_rows must be a whole number of rows, 0 for no sample. Got {sample_rows!r}."
        )


def profile_batches(batches: Iterable[Any], *, sample_rows: int = SAMPLE_ROWS) -> Profile:
    """Profile a stream of batches (Arrow record batches or tables, or Polars frames)."""
    from driftloop.drift.frames import durations_in_seconds

    result: Profile | None = None
    for batch in batches:
        frame = batch if isinstance(batch, pl.DataFrame) else pl.DataFrame(pl.from_arrow(batch))
        frame = durations_in_seconds(frame)  # as detect reads them
        if frame.height == 0:
            continue
        part = _profile_of(frame, sample_rows)
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
    sample = a.sample.merge(b.sample) if a.sample is not None and b.sample is not None else None
    return Profile(merged, a.n_rows + b.n_rows, sample)


merge_profiles = merge  # the name ``driftloop.merge_profiles`` exports
