"""Profiling a file, glob or folder of Parquet or CSV out of core, one record batch at a time.

The source is opened as an Arrow dataset (:mod:`pyarrow.dataset`); the date window
``[start, end)`` on ``date_column`` is pushed into the scan (Parquet row groups outside it are
skipped), Arrow decodes on every core, and each batch is profiled and merged into the running
profile before the next is read. Parquet is read one row group at a time, so memory stays flat as
rows grow, at about one row group's size (``benchmarks/bench_profile.py`` measures the peak).
"""

from __future__ import annotations

import datetime as dt
import glob
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftloop.errors import ConfigError, EmptyDataError, SourceError
from driftloop.profiles.dataset import Profile, profile_batches

__all__ = ["BATCH_ROWS", "open_dataset", "profile_source"]

BATCH_ROWS = 262_144
_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def profile_source(
    source: str,
    *,
    date_column: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Profile:
    """Profile ``source`` (a file, glob or folder of Parquet or CSV), optionally one window."""
    dataset = open_dataset(source)
    where = _window(dataset, source, date_column, start, end)
    total = dataset.count_rows(filter=where) if dataset.format.default_extname == "parquet" else 0
    done = 0

    def batches() -> Any:
        nonlocal done
        for batch in _scan(dataset, where):
            done += batch.num_rows
            yield batch
            if progress is not None:
                progress(done, max(total, done))

    try:
        return profile_batches(batches())
    except EmptyDataError:
        window = f" in [{start}, {end}) on {date_column}" if date_column else ""
        raise EmptyDataError(
            f"{source} has no rows{window}. Check the source and window."
        ) from None


def open_dataset(source: str) -> Any:
    """The Arrow dataset of a file, a glob or a folder (the format from the files' suffixes)."""
    import pyarrow.dataset as ds

    files = _files(source)
    formats = {_FORMATS.get(Path(f).suffix.lower()) for f in files}
    if len(formats) != 1 or None in formats:
        suffixes = ", ".join(sorted({Path(f).suffix or "(none)" for f in files}))
        raise ConfigError(
            f"Source {source} must hold Parquet (.parquet, .pq) or CSV (.csv) files of one "
            f"format. Got {suffixes}."
        )
    try:
        return ds.dataset(files, format=formats.pop())
    except (OSError, ValueError) as err:
        raise SourceError(f"Cannot read {source} as a dataset: {str(err).splitlines()[0]}") from err


def _scan(dataset: Any, where: Any) -> Any:
    """Record batches, read one Parquet row group at a time (the dataset scanner reads ahead
    of a slow consumer without bound: memory then grows with the file), CSV as it streams."""
    import pyarrow.dataset as ds

    if dataset.format.default_extname != "parquet":
        yield from dataset.to_batches(filter=where, batch_size=BATCH_ROWS)
        return
    options = ds.ParquetFragmentScanOptions(pre_buffer=False)
    for fragment in dataset.get_fragments(filter=where):
        for piece in fragment.split_by_row_group(filter=where):
            table = piece.to_table(filter=where, fragment_scan_options=options)
            yield from table.to_batches(max_chunksize=BATCH_ROWS)


def _files(source: str) -> list[str]:
    path = Path(source)
    if path.is_dir():
        files = sorted(
            str(p) for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
        )
    elif any(ch in source for ch in "*?["):
        files = sorted(glob.glob(source, recursive=True))
    elif path.is_file():
        files = [source]
    else:
        raise SourceError(f"Source {source} does not exist. Pass a file, a glob or a folder.")
    if not files:
        raise SourceError(f"Source {source} matches no files. Check the path or glob.")
    return files


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
