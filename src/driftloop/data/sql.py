"""SQL sources: a table or a query behind a SQLAlchemy URL, windowed by date, into Polars.

PostgreSQL is read through ADBC (Arrow all the way, several times faster than a row-by-row
driver); other databases (SQLite...) through SQLAlchemy. The date window is pushed down into the
SQL ``WHERE`` clause with bound values. Messages show URLs without passwords.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from driftloop.data.empty import no_rows
from driftloop.data.identifiers import check_table_name
from driftloop.errors import ConfigError, EmptyDataError, SchemaError, SourceError

__all__ = [
    "is_postgres",
    "parse_url",
    "plain_arrow",
    "quote_identifier",
    "read_sql",
    "redact_url",
    "sql_error",
    "sqlite_folder_on_connect",
    "window_clause",
]


def redact_url(url: str) -> str:
    """The database URL with its password hidden, for messages.

    Examples
    --------
    >>> redact_url("postgresql://app:s3cret@db:5432/prod")
    'postgresql://app:***@db:5432/prod'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparsable database URL>"


def sqlite_folder_on_connect(engine: sa.Engine) -> sa.Engine:
    """A SQLite file's folder is created when the engine first connects (a new config's default
    ``.driftloop/warehouse.db`` works at once); nothing is created before a connection."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        folder = Path(database).parent

        def make_folder(*_: Any) -> None:
            folder.mkdir(parents=True, exist_ok=True)

        sa.event.listen(engine, "do_connect", make_folder)
    return engine


def is_postgres(url: str) -> bool:
    return parse_url(url).get_backend_name() == "postgresql"


def parse_url(url: str) -> sa.URL:
    """The SQLAlchemy URL, or one ConfigError line (the URL itself is never shown)."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(
            "The database URL is not a valid SQLAlchemy URL (e.g. postgresql://user@host/db or "
            "sqlite:///path.db)."
        ) from None


def window_clause(
    date_column: str | None, start: dt.date | None, end: dt.date | None
) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause for an inclusive date window, with ``?`` placeholders and its values."""
    if date_column is None or (start is None and end is None):
        return "", []
    quoted = quote_identifier(date_column)
    parts: list[str] = []
    values: list[Any] = []
    if start is not None:
        parts.append(f"{quoted} >= ?")
        values.append(start)
    if end is not None:
        # Inclusive end on a date or a timestamp column: strictly before the next day.
        parts.append(f"{quoted} < ?")
        values.append(end + dt.timedelta(days=1))
    return " WHERE " + " AND ".join(parts), values


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (inner quotes doubled), safe to place in a query."""
    return '"' + name.replace('"', '""') + '"'


def read_sql(
    url: str,
    *,
    table: str | None = None,
    query: str | None = None,
    schema: str | None = None,
    date_column: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    equals: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """Read a table or a query's rows, within ``[start, end]`` on ``date_column`` if given.

    ``equals`` adds ``column = value`` conditions (bound values), also pushed into the SQL.
    """
    if (table is None) == (query is None):
        raise ConfigError("A SQL source needs exactly one of 'table' or 'query'.")
    if table is not None:
        source = quote_identifier(check_table_name(table))
        if schema is not None:
            source = f"{quote_identifier(check_table_name(schema, 'schema'))}.{source}"
        shown = f"table '{table}'"
    else:
        source = f"({query}) AS driftloop_source"
        shown = "the query"
    where, values = window_clause(date_column, start, end)
    for column, value in (equals or {}).items():
        where += (" AND " if where else " WHERE ") + f"{quote_identifier(column)} = ?"
        values.append(value)
    sql = f"SELECT * FROM {source}{where}"
    try:
        frame = (
            _read_postgres(url, sql, values)
            if is_postgres(url)
            else _read_sqlalchemy(url, sql, values)
        )
    except _QueryFailed as failed:
        raise sql_error(failed.cause, url, shown, date_column) from None
    if frame.height == 0 and (start is not None or end is not None) and date_column:
        raise EmptyDataError(no_rows(f"{shown} in {redact_url(url)}", start, end))
    return frame


class _QueryFailed(Exception):
    def __init__(self, cause: Exception) -> None:
        self.cause = cause


def _read_postgres(url: str, sql: str, values: list[Any]) -> pl.DataFrame:
    import adbc_driver_manager
    import adbc_driver_postgresql.dbapi as adbc

    libpq_url = parse_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    numbered = _number_placeholders(sql)
    try:
        with adbc.connect(libpq_url) as conn, conn.cursor() as cursor:
            cursor.execute(numbered, parameters=tuple(values) if values else None)
            table = cursor.fetch_arrow_table()
    except adbc_driver_manager.Error as err:
        raise _QueryFailed(err) from None
    return pl.DataFrame(pl.from_arrow(plain_arrow(table)))


def _number_placeholders(sql: str) -> str:
    out, n = [], 0
    for piece in sql.split("?"):
        out.append(piece)
        n += 1
        out.append(f"${n}")
    return "".join(out[:-1])


def plain_arrow(table: pa.Table) -> pa.Table:
    """Replace PostgreSQL's opaque extension types (numeric, uuid, json...) by plain ones."""
    columns, fields = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        if isinstance(field.type, pa.BaseExtensionType):
            storage = pa.chunked_array(
                [c.storage for c in column.chunks], type=field.type.storage_type
            )
            type_name = getattr(field.type, "type_name", "")
            column = storage.cast(pa.float64()) if type_name == "numeric" else storage
            field = pa.field(field.name, column.type)
        columns.append(column)
        fields.append(field)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _read_sqlalchemy(url: str, sql: str, values: list[Any]) -> pl.DataFrame:
    names = [f"p{i}" for i in range(len(values))]
    for name in names:
        sql = sql.replace("?", f":{name}", 1)
    try:
        engine = sa.create_engine(url)
    except (ArgumentError, NoSuchModuleError) as err:
        raise ConfigError(f"Cannot use database URL {redact_url(url)}: {err}.") from None
    try:
        with engine.connect() as conn:
            result = conn.execute(sa.text(sql), dict(zip(names, values, strict=True)))
            rows = result.fetchall()
            columns = list(result.keys())
    except sa.exc.SQLAlchemyError as err:
        raise _QueryFailed(err) from None
    finally:
        engine.dispose()
    data: dict[str, list[Any]] = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    return pl.DataFrame(data, infer_schema_length=None)


def sql_error(
    err: Exception, url: str, shown: str, date_column: str | None
) -> SourceError | SchemaError:
    """A driver's error as one line naming ``shown`` and the fix, the password hidden."""
    text = str(getattr(err, "orig", None) or err).strip()
    low = text.lower()
    where = redact_url(url)
    if wrong := re.search(r"operator does not exist: (.+?) (?:>=|<) date", text):
        return SchemaError(
            f"Date column '{date_column}' of {shown} is not a date or timestamp column "
            f"({wrong[1]}). Point window.date_column at one."
        )
    if database := re.search(r'database "([^"]+)" does not exist', text):
        return SourceError(
            f"Cannot connect to {where}: database '{database[1]}' does not exist. Create it."
        )
    if role := re.search(r'role "([^"]+)" does not exist', text):
        return SourceError(
            f"Cannot connect to {where}: the server has no user '{role[1]}'. Fix the URL's user "
            "name (or create that role)."
        )
    if user := re.search(r'password authentication failed for user "([^"]+)"', text):
        return SourceError(
            f"Cannot connect to {where}: the server refused the password of user '{user[1]}'. "
            "Fix the URL's password (or the ${ENV} variable it names)."
        )
    if column := re.search(r'column "?([^" ]+)"? does not exist|no such column: (\S+)', text):
        name = column[1] or column[2]
        return SchemaError(
            f"Cannot read {shown} from {where}: column '{name}' does not exist. "
            "Check window.date_column and the query."
        )
    if re.search(r"relation .* does not exist|no such table", low):
        return SchemaError(
            f"Cannot read {shown} from {where}: it does not exist. Create or seed it."
        )
    if any(k in low for k in ("connection refused", "could not connect", "connect", "timeout")):
        return SourceError(f"Cannot connect to {where}: is the database running and reachable?")
    first = _last_line(text) or type(err).__name__
    return SourceError(f"Reading {shown} from {where} failed: {first[:200]}.")


def _last_line(text: str) -> str:
    """The server's own words: drop driver prefixes such as 'NOT_FOUND: ... ERROR:'."""
    line = text.splitlines()[0] if text else ""
    return line.rsplit("ERROR:", 1)[-1].strip()
