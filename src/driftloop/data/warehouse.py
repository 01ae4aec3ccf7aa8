"""The warehouse: append each window exactly once, all or nothing.

Every append is keyed by (pipeline, window start, window end) and recorded in a ledger table,
``driftloop_appends``. Re-running a window replaces its rows (``on_conflict="replace"``, the
default) or leaves them (``"skip"``); it never duplicates them. An append is one transaction: if
anything fails — a bad value at row 900, the connection killed — the table is exactly as before.
Appends to one table are serialised (a PostgreSQL advisory lock; SQLite's write lock), so
concurrent runs cannot interleave. PostgreSQL rows go in through ``COPY``.

Data tables get three bookkeeping columns: ``driftloop_pipeline``, ``driftloop_window_start`` and
``driftloop_window_end``; :meth:`Warehouse.read` leaves them out.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
import sqlalchemy as sa

from driftloop.data.identifiers import check_column_name, check_table_name
from driftloop.data.sql import is_postgres, read_sql, redact_url, sqlite_folder_on_connect
from driftloop.data.sqltypes import conform, sql_type
from driftloop.errors import (
    ConfigError,
    DataError,
    EmptyDataError,
    SchemaError,
    SourceError,
)

__all__ = ["LEDGER_TABLE", "META_COLUMNS", "AppendResult", "Warehouse"]

LEDGER_TABLE = "driftloop_appends"
META_COLUMNS = ("driftloop_pipeline", "driftloop_window_start", "driftloop_window_end")
OnConflict = Literal["replace", "skip"]


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append did: ``inserted``, ``replaced`` (an earlier load) or ``skipped``."""

    table: str
    pipeline: str
    window_start: dt.date
    window_end: dt.date
    action: str
    rows: int
    replaced_rows: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "pipeline": self.pipeline,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "action": self.action,
            "rows": self.rows,
            "replaced_rows": self.replaced_rows,
            "seconds": round(self.seconds, 4),
        }


class Warehouse:
    """A database that keeps every window a pipeline has seen.

    Parameters
    ----------
    url
        SQLAlchemy URL: ``postgresql://user@host/db`` or ``sqlite:///path.db``.
    schema
        Database schema for the tables (PostgreSQL); default: the connection's.
    """

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self.url = url
        self.schema = check_table_name(schema, "schema") if schema else None
        self._postgres = is_postgres(url)
        try:
            self.engine = sqlite_folder_on_connect(sa.create_engine(url, pool_pre_ping=True))
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as err:
            raise ConfigError(f"Cannot use warehouse URL {redact_url(url)}: {err}.") from None

    def __repr__(self) -> str:
        return f"Warehouse({redact_url(self.url)!r})"

    def close(self) -> None:
        self.engine.dispose()

    def append(
        self,
        frame: pl.DataFrame,
        *,
        pipeline: str,
        window_start: dt.date,
        window_end: dt.date,
        table: str = "current",
        on_conflict: OnConflict = "replace",
        date_column: str | None = None,
    ) -> AppendResult:
        """Append ``frame`` as the rows of one window, exactly once, in one transaction.

        Refused, with nothing written: no rows (a later append of the window must still load it),
        rows dated outside the window (with ``date_column``), and a window overlapping another
        appended window of the pipeline (its rows would be stored twice).
        """
        started = time.perf_counter()
        check_table_name(table)
        if on_conflict not in ("replace", "skip"):
            raise ConfigError(f"on_conflict must be 'replace' or 'skip'. Got {on_conflict!r}.")
        if window_end < window_start:
            raise ConfigError(f"Window end {window_end} is before its start {window_start}.")
        if frame.height == 0:
            raise EmptyDataError(
                f"No rows to append for {window_start}..{window_end} to '{table}': nothing was "
                "recorded, so a later append of this window still loads it."
            )
        if date_column is not None:
            _check_inside(frame, date_column, window_start, window_end)
        rows = frame.with_columns(
            pl.lit(pipeline).alias(META_COLUMNS[0]),
            pl.lit(window_start).alias(META_COLUMNS[1]),
            pl.lit(window_end).alias(META_COLUMNS[2]),
        )
        key = {"pipeline": pipeline, "table_name": table, "start": window_start, "end": window_end}
        with self._transaction(self._doing(window_start, window_end, table)) as conn:
            self._lock(conn, table)
            target = self._ensure_table(conn, table, rows, bookkeeping=True)
            ledger = self._ledger(conn)
            done = conn.execute(
                sa.select(ledger.c.rows).where(*self._key_filter(ledger, key))
            ).scalar_one_or_none()
            _check_no_overlap(conn, ledger, key)
            if done is not None and on_conflict == "skip":
                return self._result(
                    table, pipeline, window_start, window_end, "skipped", 0, 0, started
                )
            replaced = conn.execute(
                target.delete().where(
                    target.c[META_COLUMNS[0]] == pipeline,
                    target.c[META_COLUMNS[1]] == window_start,
                    target.c[META_COLUMNS[2]] == window_end,
                )
            ).rowcount
            self._insert(
                conn, target, conform(rows, target, self._doing(window_start, window_end, table))
            )
            conn.execute(ledger.delete().where(*self._key_filter(ledger, key)))
            conn.execute(
                ledger.insert().values(
                    pipeline=pipeline,
                    table_name=table,
                    window_start=window_start,
                    window_end=window_end,
                    rows=frame.height,
                    loaded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                )
            )
        action = "replaced" if done is not None else "inserted"
        return self._result(
            table, pipeline, window_start, window_end, action, frame.height, replaced, started
        )

    def seed(
        self,
        frame: pl.DataFrame,
        *,
        table: str = "reference",
        if_exists: Literal["fail", "replace", "append"] = "fail",
    ) -> int:
        """Load ``frame`` into ``table`` (the reference, usually), in one transaction."""
        check_table_name(table)
        if frame.height == 0:
            raise EmptyDataError(f"Nothing to seed into table '{table}': the data has no rows.")
        with self._transaction(f"seeding table '{table}'") as conn:
            self._lock(conn, table)
            exists = sa.inspect(conn).has_table(table, schema=self.schema)
            if exists and if_exists == "fail":
                raise SchemaError(
                    f"Table '{table}' already exists in {redact_url(self.url)}. "
                    "Use --if-exists replace or append."
                )
            if exists and if_exists == "replace":
                sa.Table(table, sa.MetaData(), schema=self.schema, autoload_with=conn).drop(conn)
                # the table's windows are gone with it: forget them, or a later append would skip
                ledger = self._ledger(conn)
                conn.execute(ledger.delete().where(ledger.c.table_name == table))
            target = self._ensure_table(conn, table, frame, bookkeeping=False)
            self._insert(conn, target, conform(frame, target, f"seeding table '{table}'"))
        return frame.height

    def read(
        self,
        table: str = "current",
        *,
        pipeline: str | None = None,
        date_column: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> pl.DataFrame:
        """Rows of ``table`` (optionally one pipeline's, within a window), without bookkeeping."""
        frame = read_sql(
            self.url,
            table=table,
            schema=self.schema,
            date_column=date_column,
            start=start,
            end=end,
            equals={META_COLUMNS[0]: pipeline} if pipeline is not None else None,
        )
        return frame.drop([c for c in META_COLUMNS if c in frame.columns])

    def appends(self, pipeline: str | None = None) -> list[dict[str, Any]]:
        """The ledger: one row per window appended."""
        with self._transaction("reading the append ledger") as conn:
            ledger = self._ledger(conn)
            query = sa.select(ledger).order_by(ledger.c.window_start)
            if pipeline is not None:
                query = query.where(ledger.c.pipeline == pipeline)
            return [dict(r._mapping) for r in conn.execute(query)]

    def count(self, table: str) -> int:
        check_table_name(table)
        with self._transaction(f"counting table '{table}'") as conn:
            target = sa.Table(table, sa.MetaData(), schema=self.schema, autoload_with=conn)
            return int(conn.execute(sa.select(sa.func.count()).select_from(target)).scalar_one())

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _doing(start: dt.date, end: dt.date, table: str) -> str:
        return f"appending {start}..{end} to table '{table}'"

    def _transaction(self, doing: str) -> Any:
        return _Transaction(self, doing)

    def _lock(self, conn: sa.Connection, table: str) -> None:
        if self._postgres:
            key = f"driftloop:{self.schema or ''}.{table}"
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key}
            )
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS driftloop_lock (id INTEGER)")
            conn.exec_driver_sql("DELETE FROM driftloop_lock WHERE 1 = 0")  # takes the write lock

    def _ledger(self, conn: sa.Connection) -> sa.Table:
        ledger = sa.Table(
            LEDGER_TABLE,
            sa.MetaData(),
            sa.Column("pipeline", sa.Text, primary_key=True),
            sa.Column("table_name", sa.Text, primary_key=True),
            sa.Column("window_start", sa.Date, primary_key=True),
            sa.Column("window_end", sa.Date, primary_key=True),
            sa.Column("rows", sa.BigInteger, nullable=False),
            sa.Column("loaded_at", sa.DateTime, nullable=False),
            schema=self.schema,
        )
        ledger.create(conn, checkfirst=True)
        return ledger

    @staticmethod
    def _key_filter(ledger: sa.Table, key: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
        return [
            ledger.c.pipeline == key["pipeline"],
            ledger.c.table_name == key["table_name"],
            ledger.c.window_start == key["start"],
            ledger.c.window_end == key["end"],
        ]

    def _ensure_table(
        self, conn: sa.Connection, table: str, frame: pl.DataFrame, *, bookkeeping: bool
    ) -> sa.Table:
        for name in frame.columns:
            check_column_name(name, table)
        if not sa.inspect(conn).has_table(table, schema=self.schema):
            columns = [sa.Column(n, sql_type(t)) for n, t in frame.schema.items()]
            created = sa.Table(table, sa.MetaData(), *columns, schema=self.schema)
            if bookkeeping:
                created.append_constraint(sa.Index(f"{table}_driftloop_window", *META_COLUMNS))
            created.create(conn)
            return created
        existing = sa.Table(table, sa.MetaData(), schema=self.schema, autoload_with=conn)
        unknown = [c for c in frame.columns if c not in existing.c]
        if unknown:
            listed = ", ".join(c.name for c in existing.columns if c.name not in META_COLUMNS)
            raise SchemaError(
                f"Column '{unknown[0]}' is not in warehouse table '{table}' (its columns: "
                f"{listed}). Add the column to the table or drop it from the data."
            )
        return existing

    def _insert(self, conn: sa.Connection, target: sa.Table, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        if self._postgres:
            self._copy(conn, target, frame)
        else:
            conn.execute(target.insert(), frame.to_dicts())

    def _copy(self, conn: sa.Connection, target: sa.Table, frame: pl.DataFrame) -> None:
        # COPY ... FROM STDIN (CSV) on the transaction's own connection: fast and atomic.
        names = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in frame.columns)
        qualified = conn.dialect.identifier_preparer.format_table(target)
        payload = _as_text_times(frame).write_csv(include_header=False)
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {qualified} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(payload.encode())

    @staticmethod
    def _result(
        table: str,
        pipeline: str,
        start: dt.date,
        end: dt.date,
        action: str,
        rows: int,
        replaced: int,
        started: float,
    ) -> AppendResult:
        seconds = time.perf_counter() - started
        return AppendResult(table, pipeline, start, end, action, rows, replaced, seconds)


class _Transaction:
    """One transaction on the warehouse; database errors become one clear line."""

    def __init__(self, warehouse: Warehouse, doing: str) -> None:
        self.warehouse = warehouse
        self.doing = doing
        self._context: Any = None

    def __enter__(self) -> sa.Connection:
        try:
            self._context = self.warehouse.engine.begin()
            return self._context.__enter__()  # type: ignore[no-any-return]
        except sa.exc.SQLAlchemyError as err:
            raise self._error(err) from None

    def __exit__(self, kind: Any, value: Any, tb: Any) -> Literal[False]:
        try:
            self._context.__exit__(kind, value, tb)
        except sa.exc.SQLAlchemyError as err:
            raise self._error(err) from None
        if isinstance(value, sa.exc.SQLAlchemyError):
            raise self._error(value) from None
        if value is not None and type(value).__module__.startswith("psycopg"):
            raise self._error(value) from None
        return False

    def _error(self, err: BaseException) -> SourceError:
        where = redact_url(self.warehouse.url)
        orig = getattr(err, "orig", None) or err
        text = str(orig).strip()
        low = text.lower()
        if _lost_connection(low):
            return SourceError(
                f"Lost the connection to {where} while {self.doing}; the transaction was rolled "
                "back and nothing was written. Re-running it is safe."
            )
        if "connection refused" in low or "could not connect" in low or "connection failed" in low:
            return SourceError(f"Cannot connect to {where}: is the database running and reachable?")
        first = text.splitlines()[0] if text else type(orig).__name__
        context = getattr(getattr(orig, "diag", None), "context", None) or ""
        at = re.search(r"line (\d+)(?:, column ([^:]+))?", context)
        place = ""
        if at:
            place = f" at row {at[1]}" + (f", column '{at[2]}'" if at[2] else "")
        return SourceError(
            f"Failed {self.doing}{place}: {first[:200]}. Nothing was written; fix the data and "
            "re-run."
        )


def _lost_connection(low: str) -> bool:
    return any(
        k in low
        for k in (
            "terminating connection",
            "server closed the connection",
            "connection is closed",
            "connection already closed",
            "consuming input failed",
            "the connection is lost",
        )
    )


def _check_inside(frame: pl.DataFrame, column: str, start: dt.date, end: dt.date) -> None:
    if column not in frame.columns:
        raise SchemaError(f"Column '{column}' is not in the rows to append. Check date_column.")
    dates = frame[column]
    if dates.dtype == pl.String:
        dates = dates.str.to_date(strict=False)
    dates = dates.cast(pl.Date, strict=False)
    outside = frame.filter((dates < start) | (dates > end) | dates.is_null())
    if outside.height:
        raise DataError(
            f"{outside.height} of {frame.height} rows to append have '{column}' outside "
            f"{start}..{end} (first: {outside[column][0]}). Keep only the window's rows "
            "(--date-column) or widen the window."
        )


def _check_no_overlap(conn: sa.Connection, ledger: sa.Table, key: dict[str, Any]) -> None:
    clash = conn.execute(
        sa.select(ledger.c.window_start, ledger.c.window_end).where(
            ledger.c.pipeline == key["pipeline"],
            ledger.c.table_name == key["table_name"],
            ledger.c.window_start <= key["end"],
            ledger.c.window_end >= key["start"],
            sa.not_((ledger.c.window_start == key["start"]) & (ledger.c.window_end == key["end"])),
        )
    ).first()
    if clash is not None:
        raise DataError(
            f"Window {key['start']}..{key['end']} overlaps the window {clash.window_start}.."
            f"{clash.window_end} already appended for pipeline '{key['pipeline']}' in "
            f"'{key['table_name']}': its rows would be stored twice. Append windows that do not "
            "overlap, or re-run that same window to replace it."
        )


def _as_text_times(frame: pl.DataFrame) -> pl.DataFrame:
    """Datetime columns as the text PostgreSQL's COPY reads: with their offset when they carry a
    time zone (in UTC), without one when they are naive (one format for both fails on naive)."""
    texts = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            column = pl.col(name)
            if dtype.time_zone is not None:
                column = column.dt.convert_time_zone("UTC")
                texts.append(column.dt.strftime("%Y-%m-%d %H:%M:%S%.f+00:00").alias(name))
            else:
                texts.append(column.dt.strftime("%Y-%m-%d %H:%M:%S%.f").alias(name))
    return frame.with_columns(texts) if texts else frame
