"""Profiling a source out of core: a file, glob, folder or URL of Parquet/CSV, or a SQL table.

``profile_source`` dispatches on the source: a SQLAlchemy URL goes to
:mod:`~driftloop.profiles.sqlsource` (server-side batches), an http(s) URL is downloaded to a
temporary file first (:mod:`~driftloop.profiles.urlsource`), and a path, glob or folder — local or
``s3://`` — is opened as an Arrow dataset (:mod:`pyarrow.dataset`). The date window
``[start, end)`` on ``date_column`` is pushed into the scan (Parquet row groups outside it are
skipped), and the remaining pieces (row groups, CSV files) are profiled on every core
(:mod:`~driftloop.profiles.workers`), one piece per worker at a time, so memory stays flat as rows
grow (``benchmarks/bench_profile_build.py`` measures the peak).
"""

from __future__ import annotations

import datetime as dt
import glob
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from driftloop.errors import ConfigError, EmptyDataError, SourceError
from driftloop.profiles.dataset import Profile
from driftloop.profiles.options import ProfileOptions
from driftloop.profiles.workers import (
    BATCH_ROWS,
    PARALLEL_MIN_ROWS,
    Piece,
    default_workers,
    profile_pieces,
)

__all__ = ["BATCH_ROWS", "is_sql_url", "open_dataset", "profile_source"]

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_FILE_SCHEMES = ("", "file", "s3", "http", "https")


def is_sql_url(source: str) -> bool:
    """Whether ``source`` is a SQLAlchemy database URL (``postgresql://``, ``sqlite:///``...).

    Examples
    --------
    >>> is_sql_url("postgresql+psycopg://app@db/prod"), is_sql_url("s3://bucket/ref/")
    (True, False)
    """
    scheme = urlsplit(source).scheme.lower()
    return "://" in source and len(scheme) > 1 and scheme not in _FILE_SCHEMES


def profile_source(
    source: str,
    *,
    table: str | None = None,
    query: str | None = None,
    date_column: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    options: ProfileOptions | None = None,
) -> Profile:
    """Profile ``source`` (see the module docstring), optionally over ``[start, end)``.

    ``table`` or ``query`` go with a SQL URL only; ``workers`` defaults to the usable cores (one
    below ``PARALLEL_MIN_ROWS`` rows); ``progress(done, total)`` follows the rows read;
    ``options`` says what the profile keeps beyond its columns (row sample, segments).
    """
    options = options or ProfileOptions()
    if is_sql_url(source):
        from driftloop.profiles.sqlsource import profile_sql

        return profile_sql(
            source,
            table=table,
            query=query,
            date_column=date_column,
            start=start,
            end=end,
            progress=progress,
            options=options,
        )
    if table is not None or query is not None:
        raise ConfigError(
            f"--table and --query need a database URL as SOURCE (e.g. postgresql://user@host/db); "
            f"got {_shown(source)}."
        )
    if urlsplit(source).scheme.lower() in ("http", "https"):
        from driftloop.profiles.urlsource import downloaded

        with downloaded(source) as local:
            return _profile_files(
                local, _Scan(_shown(source), date_column, start, end, options), workers, progress
            )
    return _profile_files(
        source, _Scan(_shown(source), date_column, start, end, options), workers, progress
    )


@dataclass(frozen=True, slots=True)
class _Scan:
    """What is read of a file source: shown as ``shown``, the window, and what is kept."""

    shown: str
    date_column: str | None
    start: dt.date | None
    end: dt.date | None
    options: ProfileOptions


def _profile_files(
    source: str,
    scan: _Scan,
    workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> Profile:
    shown, date_column, start, end = scan.shown, scan.date_column, scan.start, scan.end
    dataset = open_dataset(source, shown)
    where = _window(dataset, shown, date_column, start, end)
    scan.options.check_columns(dataset.schema.names, shown)
    parquet = dataset.format.default_extname == "parquet"
    total = dataset.count_rows(filter=where) if parquet else 0
    pieces = _pieces(dataset, where, scan.options)
    if workers is None:
        workers = default_workers() if total >= PARALLEL_MIN_ROWS or not parquet else 1
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(done, max(total, done))

    result = profile_pieces(pieces, workers=workers, progress=advance)
    if result is None:
        window = f" in [{start}, {end}) on {date_column}" if date_column else ""
        raise EmptyDataError(f"{shown} has no rows{window}. Check the source and window.")
    return result


def open_dataset(source: str, shown: str | None = None) -> Any:
    """The Arrow dataset of a file, a glob or a folder, local or ``s3://`` (the format from the
    files' suffixes)."""
    import pyarrow.dataset as ds

    shown = shown or source
    filesystem, files = _files(source, shown)
    formats = {_FORMATS.get(Path(f).suffix.lower()) for f in files}
    if len(formats) != 1 or None in formats:
        suffixes = ", ".join(sorted({Path(f).suffix or "(none)" for f in files}))
        raise ConfigError(
            f"Source {shown} must hold Parquet (.parquet, .pq) or CSV (.csv) files of one "
            f"format. Got {suffixes}."
        )
    try:
        return ds.dataset(files, format=formats.pop(), filesystem=filesystem)
    except (OSError, ValueError) as err:
        raise SourceError(f"Cannot read {shown} as a dataset: {_first_line(err)}") from err


def _pieces(dataset: Any, where: Any, options: ProfileOptions) -> list[Piece]:
    """Parquet row groups the window may touch (pruned by their statistics), or CSV files."""
    kind = dataset.format.default_extname
    pieces = []

    def piece(path: str, group: int | None) -> Piece:
        return Piece(path, kind, group, dataset.schema, dataset.filesystem, where, options)

    for fragment in dataset.get_fragments(filter=where):
        if kind != "parquet":
            pieces.append(piece(fragment.path, None))
            continue
        for group in fragment.split_by_row_group(filter=where):
            pieces.append(piece(fragment.path, group.row_groups[0].id))
    return pieces


def _files(source: str, shown: str) -> tuple[Any, list[str]]:
    """The filesystem (None: local) and the sorted data files ``source`` names."""
    if urlsplit(source).scheme.lower() == "s3":
        from driftloop.profiles.urlsource import s3_files

        return s3_files(source, shown)
    path = Path(source[len("file://") :] if source.startswith("file://") else source)
    if path.is_dir():
        files = sorted(
            str(p) for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
        )
    elif any(ch in source for ch in "*?["):
        files = sorted(glob.glob(source, recursive=True))
    elif path.is_file():
        files = [str(path)]
    else:
        raise SourceError(
            f"Source {shown} does not exist. Pass a file, a glob, a folder, a URL or a "
            "database URL."
        )
    if not files:
        raise SourceError(f"Source {shown} matches no files. Check the path or glob.")
    return None, files


def _window(
    dataset: Any, source: str, column: str | None, start: dt.date | None, end: dt.date | None
) -> Any:
    import pyarrow as pa
    import pyarrow.dataset as ds

    if column is None:
        if start is not None or end is not None:
            raise ConfigError("--start and --end need --date-column: name the column they filter.")
        return None
    if column not in dataset.schema.names:
        raise ConfigError(
            f"Date column '{column}' is not in {source}. "
            f"Columns: {', '.join(dataset.schema.names)}."
        )
    kind = dataset.schema.field(column).type
    if not (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
        raise ConfigError(
            f"Date column '{column}' in {source} has type {kind}; it needs dates or timestamps."
        )
    where = None
    for bound, keep in ((start, "ge"), (end, "lt")):
        if bound is None:
            continue
        value = pa.scalar(dt.datetime.combine(bound, dt.time())).cast(kind)
        test = ds.field(column) >= value if keep == "ge" else ds.field(column) < value
        where = test if where is None else where & test
    return where


def _shown(source: str) -> str:
    from driftloop.data.sources import safe_uri

    return safe_uri(source) if "://" in source else source


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__
