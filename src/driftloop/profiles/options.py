"""What a profile build keeps beyond the columns' summaries: its row sample and its segments."""

from __future__ import annotations

from dataclasses import dataclass

from driftloop.errors import ConfigError
from driftloop.profiles.rowsample import SAMPLE_ROWS

__all__ = ["MAX_SEGMENT_VALUES", "ProfileOptions"]

MAX_SEGMENT_VALUES = 100  # as detection.segments allows (``drift/segments.py``)


@dataclass(frozen=True, slots=True)
class ProfileOptions:
    """``sample_rows``: whole rows kept as a uniform sample (0: none). ``segment_by``: columns
    whose every value keeps a profile of its own rows, for ``detection.segments`` (at most
    ``MAX_SEGMENT_VALUES`` values a column; integers, strings or booleans).

    Examples
    --------
    >>> ProfileOptions(segment_by=("workingday",)).segment_by
    ('workingday',)
    >>> ProfileOptions(sample_rows=-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    driftloop.errors.ConfigError: sample_rows must be a whole number of rows, 0 for no ...
    """

    sample_rows: int = SAMPLE_ROWS
    segment_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        rows = self.sample_rows
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise ConfigError(
                f"sample_rows must be a whole number of rows, 0 for no sample. Got {rows!r}."
            )
        if len(set(self.segment_by)) != len(self.segment_by):
            raise ConfigError(
                f"segment_by names a column twice: {list(self.segment_by)}. Name each once."
            )

    @property
    def of_segment(self) -> ProfileOptions:
        """A segment's own profile: no sample, no segments of its own."""
        return ProfileOptions(sample_rows=0)

    def check_columns(self, columns: list[str], shown: str) -> None:
        """One line, before any row is read, when a ``segment_by`` column is not in ``shown``."""
        missing = [c for c in self.segment_by if c not in columns]
        if missing:
            more = ", ..." if len(columns) > 12 else ""
            raise ConfigError(
                f"Segment column '{missing[0]}' is not in {shown} (columns: "
                f"{', '.join(columns[:12])}{more}). Fix --segment-by."
            )
