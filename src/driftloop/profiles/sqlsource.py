"""Profiling a SQL table or query in server-side batches, the date window pushed into the SQL.

PostgreSQL is read through ADBC as a stream of Arrow record batches (the rows never sit in memory
together); any other database SQLAlchemy reaches (SQLite...) through a server-side cursor
(``stream_results``) in partitions of ``BATCH_ROWS`` rows. A reader thread fetches the next batch
while the current one is profiled, so the database driver and the profiling overlap on two cores.

The window ``[start, end)`` on ``date_column`` becomes ``WHERE "date_column" >= ? AND ... < ?``
with bound values and a quoted identifier; names are checked first (``SELECT ... WHERE 1 = 0``)
so a missing table or date column is one clear line before any row is read. The total for the
progress bar is a ``COUNT(*)`` over the same window, run only when a progress bar is shown.
Messages show the URL with its password hidden.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

from driftloop.data.identifiers import check_table_name
from driftloop.data.sql import (
    is_postgres,
    parse_url,
    plain_arrow,
    quote_identifier,
    redact_url,
    sql_error,
    window_clause,
)
from driftloop.errors import ConfigError, EmptyDataError
from driftloop.profiles.dataset import Profile, profile_batches
from driftloop.profiles.options import ProfileOptions
from driftloop.profiles.workers import one_blas_thread

__all__ = ["BATCH_BYTES", "BATCH_ROWS", "expand_env", "profile_sql"]

BATCH_ROWS = 262_144
BATCH_BYTES = 16 << 20  # PostgreSQL (ADBC): record batches of about this size
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, what: str = "SOURCE") -> str:
    """Replace ``${NAME}`` references by environment values, as in a pipeline config.

    Examples
    --------
    >>> os.environ["DRIFTLOOP_DOC_PASSWORD"] = "s3cret"
    >>> expand_env("postgresql://app:${DRIFTLOOP_DOC_PASSWORD}@db/prod")
    'postgresql://app:s3cret@db/prod'
    >>> del os.environ["DRIFTLOOP_DOC_PASSWORD"]
    """

    def value(match: re.Match[str]) -> str:
        if match[1] not in os.environ:
            raise ConfigError(
                f"{what} references ${{{match[1]}}}, which is not set in the environment. "
                f"Export {match[1]} or write the value."
            )
        return os.environ[match[1]]

    return _REF.sub(value, text)


def profile_sql(
    url: str,
    *,
    table: str | None = None,
    query: str | None = None,
    date_column: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    options: ProfileOptions | None = None,
) -> Profile:
    """Profile a table's or a query's rows over ``[start, end)`` on ``date_column`` (keeping
    what ``options`` says beyond the columns)."""
    if (table is None) == (query is None):
        raise ConfigError(
            f"A database source needs exactly one of --table or --query (SOURCE is "
            f"{redact_url(url)})."
        )
    if date_column is None and (start is not None or end is not None):
        raise ConfigError("--start and --end need --date-column: name the column they filter.")
    parse_url(url)
    source = (
        quote_identifier(check_table_name(table)) if table else f"({query}) AS driftloop_source"
    )
    shown = f"table '{table}'" if table else "the query"
    last = end - dt.timedelta(days=1) if end is not None else None  # window_clause: inclusive
    where, values = window_clause(date_column, start, last)
    reader = _Postgres(url) if is_postgres(url) else _Alchemy(url)
    try:
        columns = reader.columns(f"SELECT * FROM {source} WHERE 1 = 0")
        if date_column is not None and date_column not in columns:
            raise ConfigError(
                f"Date column '{date_column}' is not in {shown} of {redact_url(url)}. "
                f"Columns: {', '.join(columns)}."
            )
        options = options or ProfileOptions()
        options.check_columns(columns, f"{shown} of {redact_url(url)}")
        total = reader.count(f"SELECT COUNT(*) FROM {source}{where}", values) if progress else 0
        batches = _ahead(reader.batches(f"SELECT * FROM {source}{where}", values))
        with one_blas_thread():
            return profile_batches(_counted(batches, total, progress), options=options)
    except _Failed as failed:
        raise sql_error(failed.cause, url, shown, date_column) from None
    except EmptyDataError:
        window = f" in [{start}, {end}) on {date_column}" if date_column else ""
        raise EmptyDataError(
            f"{shown} of {redact_url(url)} has no rows{window}. Check the source and window."
        ) from None
    finally:
        reader.close()


class _Failed(Exception):
    def __init__(self, cause: Exception) -> None:
        self.cause = cause


def _counted(
    batches: Iterator[Any], total: int, progress: Callable[[int, int], None] | None
) -> Iterator[Any]:
    done = 0
    for batch in batches:
        done += batch.num_rows if hasattr(batch, "num_rows") else batch.height
        yield batch
        if progress is not None:
            progress(done, max(total, done))


def _ahead(batches: Iterator[Any]) -> Iterator[Any]:
    """The same batches, the next one fetched by a thread while the caller works on this one."""
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                slots.put(("batch", batch))
            slots.put(("end", None))
        except BaseException as err:  # handed over to the caller's thread
            slots.put(("error", err))

    thread = threading.Thread(target=fetch, name="driftloop-sql-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a reader waiting to put its next batch
            try:
                slots.get(timeout=0.1)
            except queue.Empty:
                pass


class _Postgres:
    """PostgreSQL through ADBC: COPY-backed Arrow record batches."""

    def __init__(self, url: str) -> None:
        self.libpq = (
            parse_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self.conn: Any = None

    def _connect(self) -> Any:
        import adbc_driver_manager
        import adbc_driver_postgresql.dbapi as adbc

        if self.conn is None:
            try:
                self.conn = adbc.connect(self.libpq)
            except adbc_driver_manager.Error as err:
                raise _Failed(err) from None
        return self.conn

    def _execute(self, sql: str, values: list[Any]) -> Any:
        import adbc_driver_manager

        cursor = self._connect().cursor()
        try:
            hint = {"adbc.postgresql.batch_size_hint_bytes": str(BATCH_BYTES)}
            cursor.adbc_statement.set_options(**hint)
            cursor.execute(_numbered(sql), parameters=tuple(values) if values else None)
        except adbc_driver_manager.Error as err:
            cursor.close()
            raise _Failed(err) from None
        return cursor

    def columns(self, sql: str) -> list[str]:
        cursor = self._execute(sql, [])
        try:
            return list(cursor.fetch_arrow_table().schema.names)
        finally:
            cursor.close()

    def count(self, sql: str, values: list[Any]) -> int:
        cursor = self._execute(sql, values)
        try:
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def batches(self, sql: str, values: list[Any]) -> Iterator[Any]:
        import adbc_driver_manager
        import pyarrow as pa

        cursor = self._execute(sql, values)
        try:
            for batch in cursor.fetch_record_batch():
                yield plain_arrow(pa.Table.from_batches([batch]))
        except adbc_driver_manager.Error as err:
            raise _Failed(err) from None
        finally:
            cursor.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class _Alchemy:
    """Any SQLAlchemy database through a server-side cursor, ``BATCH_ROWS`` rows at a time."""

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            self.engine = sa.create_engine(url)
        except (ArgumentError, NoSuchModuleError, ImportError) as err:
            raise ConfigError(
                f"Cannot use database URL {redact_url(url)}: {_first_line(err)}. Use a "
                "SQLAlchemy URL whose driver is installed (postgresql://, sqlite:///...)."
            ) from None
        self.schema: dict[str, pl.DataType] = {}

    def _run(self, sql: str, values: list[Any], stream: bool = False) -> Iterator[Any]:
        import sqlalchemy as sa

        names = [f"p{i}" for i in range(len(values))]
        for name in names:
            sql = sql.replace("?", f":{name}", 1)
        try:
            with self.engine.connect() as conn:
                options = {"stream_results": True, "yield_per": BATCH_ROWS} if stream else {}
                result = conn.execution_options(**options).execute(
                    sa.text(sql), dict(zip(names, values, strict=True))
                )
                keys = list(result.keys())
                yield keys
                for rows in result.partitions(BATCH_ROWS):
                    yield keys, rows
        except sa.exc.SQLAlchemyError as err:
            raise _Failed(err) from None

    def columns(self, sql: str) -> list[str]:
        return list(next(self._run(sql, [])))

    def count(self, sql: str, values: list[Any]) -> int:
        runs = self._run(sql, values)
        next(runs)
        _, rows = next(runs)
        return int(rows[0][0])

    def batches(self, sql: str, values: list[Any]) -> Iterator[pl.DataFrame]:
        runs = self._run(sql, values, stream=True)
        next(runs)
        for keys, rows in runs:
            yield self._frame(keys, rows)

    def _frame(self, keys: list[str], rows: list[Any]) -> pl.DataFrame:
        """One partition as a frame, its column types kept from the first batch that had values
        (a column null throughout one batch takes the type it had before)."""
        frame = pl.DataFrame(
            [list(r) for r in rows], schema=keys, orient="row", infer_schema_length=None
        )
        fixes = []
        for name, dtype in frame.schema.items():
            known = self.schema.get(name)
            if dtype == pl.Null and known is not None:
                fixes.append(pl.col(name).cast(known))
            elif known is None and dtype != pl.Null:
                self.schema[name] = dtype
            elif known is not None and known.is_integer() and dtype == pl.Float64:
                self.schema[name] = dtype
        return frame.with_columns(fixes) if fixes else frame

    def close(self) -> None:
        self.engine.dispose()


def _numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2...``."""
    pieces = sql.split("?")
    return "".join(p + (f"${i + 1}" if i < len(pieces) - 1 else "") for i, p in enumerate(pieces))


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:200] if text else type(err).__name__
