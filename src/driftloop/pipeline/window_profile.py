"""The current window profiled out of core (``current.engine: streamed`` or ``spark``).

The window's rows are never held whole: a local or S3 Parquet/CSV source is read one row group
(or file) at a time by ``workers`` processes, a database table or query in server-side batches,
and on Spark each partition on its executor. What the profile keeps is what detection needs of
the window: every column's summary, a row sample for multivariate drift and the segments of
``detection.segments``; the report is the same as from the rows wherever a statistic is exact
(counts), within the sketch's reported error elsewhere.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from driftloop.config import PipelineConfig, SourceConfig
    from driftloop.profiles.dataset import Profile
    from driftloop.profiles.options import ProfileOptions

__all__ = ["detection_profile_options", "profile_window"]


def profile_window(config: PipelineConfig, start: dt.date | None, end: dt.date | None) -> Profile:
    """The profile of ``config.current`` over ``start``..``end`` (inclusive; default: the
    source's own window) under its engine."""
    from driftloop.errors import ConfigError

    source = config.current
    options = detection_profile_options(config)
    start, end = start or source.start, end or source.end
    column = source.date_column if start is not None or end is not None else None
    after = None if end is None or column is None else end + dt.timedelta(days=1)
    begin = start if column is not None else None
    if source.engine == "spark":
        if source.uri is None:
            raise ConfigError(
                "current.engine spark reads a path or a table name in current.uri (a database "
                "url is read by current.engine streamed)."
            )
        from driftloop.spark import profile_source as spark_profile

        return spark_profile(
            source.uri, date_column=column, start=begin, end=after, options=options
        )
    return _streamed(source, column, (begin, after), options)


def detection_profile_options(config: PipelineConfig) -> ProfileOptions:
    """What a profile the loop builds keeps for its detection: the segments it names and a row
    sample of at least ``multivariate.max_rows`` rows."""
    from driftloop.profiles.options import ProfileOptions
    from driftloop.profiles.rowsample import SAMPLE_ROWS

    settings = config.detection
    rows = SAMPLE_ROWS if settings.multivariate is None else settings.multivariate.max_rows
    return ProfileOptions(
        sample_rows=max(SAMPLE_ROWS, rows),
        segment_by=tuple(s.column for s in settings.segments),
    )


def _streamed(
    source: SourceConfig,
    column: str | None,
    bounds: tuple[dt.date | None, dt.date | None],
    options: ProfileOptions,
) -> Profile:
    from driftloop.profiles.reading import profile_source

    target = source.url.get_secret_value() if source.url is not None else str(source.uri)
    return profile_source(
        target,
        table=source.table,
        query=source.query,
        date_column=column,
        start=bounds[0],
        end=bounds[1],
        workers=source.workers,
        options=options,
    )
