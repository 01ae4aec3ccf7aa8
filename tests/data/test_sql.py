"""SQL sources on the real PostgreSQL server (and SQLite): window pushdown, types, errors."""

from __future__ import annotations

import datetime as dt

import polars as pl
import psycopg
import pytest

from driftloop.data.sql import read_sql, redact_url
from driftloop.data.synthetic import bike_sharing
from driftloop.data.warehouse import Warehouse
from driftloop.errors import EmptyDataError, SchemaError, SourceError

pytestmark = pytest.mark.postgres

FEB = (dt.date(2011, 2, 1), dt.date(2011, 2, 28))


@pytest.fixture
def bikes_pg(pg_url: str) -> str:
    Warehouse(pg_url).seed(bike_sharing(), table="bikes")
    return pg_url


def test_table_window_is_inclusive(bikes_pg: str) -> None:
    feb = read_sql(bikes_pg, table="bikes", date_column="dteday", start=FEB[0], end=FEB[1])
    assert feb.height == 28
    assert feb["dteday"].min() == FEB[0] and feb["dteday"].max() == FEB[1]
    assert feb.equals(bike_sharing().filter(pl.col("dteday").is_between(*FEB)))


def test_window_is_pushed_down_into_sql(pg_url: str) -> None:
    # Rows outside the window would fail to evaluate (division by zero): they must never be read.
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE raw (day date, x int)")
        conn.execute(
            "INSERT INTO raw SELECT d::date, CASE WHEN d < '2024-02-01' THEN 0 ELSE 1 END "
            "FROM generate_series('2024-01-01'::date, '2024-03-31'::date, '1 day') AS d"
        )
        conn.execute("CREATE VIEW guarded AS SELECT day, 10 / x AS y FROM raw")
    got = read_sql(pg_url, table="guarded", date_column="day", start=dt.date(2024, 2, 1))
    assert got.height == 60 and got["y"].to_list() == [10] * 60
    with pytest.raises(SourceError, match="division by zero"):
        read_sql(pg_url, table="guarded")


def test_query_source_with_window(bikes_pg: str) -> None:
    got = read_sql(
        bikes_pg,
        query="SELECT dteday, cnt FROM bikes WHERE weathersit = 1",
        date_column="dteday",
        start=FEB[0],
        end=FEB[1],
    )
    assert got.columns == ["dteday", "cnt"] and 0 < got.height < 28


def test_types_survive_the_round_trip(bikes_pg: str) -> None:
    got = read_sql(bikes_pg, table="bikes")
    assert got.schema == bike_sharing().schema


def test_numeric_columns_become_floats(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE m (price numeric(10, 2), tag text)")
        conn.execute("INSERT INTO m VALUES (1.25, 'a'), (NULL, 'b')")
    got = read_sql(pg_url, table="m")
    assert got.schema["price"] == pl.Float64 and got["price"].to_list() == [1.25, None]


def test_sqlite_source(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    Warehouse(url).seed(bike_sharing(), table="bikes")
    feb = read_sql(url, table="bikes", date_column="dteday", start=FEB[0], end=FEB[1])
    assert feb.height == 28


def test_unreachable_database_hides_password() -> None:
    url = "postgresql://app:hunter2@127.0.0.1:1/prod"
    with pytest.raises(SourceError) as info:
        read_sql(url, table="reference")
    assert str(info.value) == (
        "Cannot connect to postgresql://app:***@127.0.0.1:1/prod: is the database running and "
        "reachable?"
    )
    assert "hunter2" not in redact_url(url)


def test_missing_database(pg_url: str) -> None:
    url = pg_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(SourceError, match=r"database 'no_such_db' does not exist\. Create it\.$"):
        read_sql(url, table="reference")


def test_unknown_user_is_named_not_called_unreachable(pg_url: str) -> None:
    url = pg_url.replace("postgresql://root@", "postgresql://nobody_here:secret@")
    with pytest.raises(SourceError) as info:
        read_sql(url, table="reference")
    assert str(info.value) == (
        f"Cannot connect to {redact_url(url)}: the server has no user 'nobody_here'. Fix the "
        "URL's user name (or create that role)."
    )
    assert "secret" not in str(info.value)


def test_a_refused_password_is_named_and_hidden() -> None:
    """PostgreSQL's words when it refuses a password (the local servers here trust TCP users,
    so the server's line is given as psycopg words it)."""
    from driftloop.data.sql import sql_error

    url = "postgresql://app:hunter2@db:5432/prod"
    said = psycopg.OperationalError(
        'connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  '
        'password authentication failed for user "app"'
    )
    err = sql_error(said, url, "table 'reference'", None)
    assert str(err) == (
        "Cannot connect to postgresql://app:***@db:5432/prod: the server refused the password "
        "of user 'app'. Fix the URL's password (or the ${ENV} variable it names)."
    )


def test_missing_table(pg_url: str) -> None:
    with pytest.raises(
        SchemaError,
        match=r"^Cannot read table 'reference' from postgresql://root@127\.0\.0\.1:5432/driftloop_test_\w+: it does not exist\. Create or seed it\.$",
    ):
        read_sql(pg_url, table="reference")


def test_missing_date_column(bikes_pg: str) -> None:
    with pytest.raises(
        SchemaError,
        match=r"column 'day' does not exist\. Check window\.date_column and the query\.$",
    ):
        read_sql(bikes_pg, table="bikes", date_column="day", start=FEB[0])


def test_date_column_that_is_not_a_date(bikes_pg: str) -> None:
    with pytest.raises(
        SchemaError,
        match=r"^Date column 'season' of table 'bikes' is not a date or timestamp column \(bigint\)\. Point window\.date_column at one\.$",
    ):
        read_sql(bikes_pg, table="bikes", date_column="season", start=FEB[0])


def test_empty_window_says_so(bikes_pg: str) -> None:
    with pytest.raises(EmptyDataError, match=r": no rows between 2030-01-01 and 2030-01-31\.$"):
        read_sql(
            bikes_pg,
            table="bikes",
            date_column="dteday",
            start=dt.date(2030, 1, 1),
            end=dt.date(2030, 1, 31),
        )


def test_invalid_table_name_is_refused(pg_url: str) -> None:
    from driftloop.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^Invalid table name 'bikes; DROP TABLE bikes'"):
        read_sql(pg_url, table="bikes; DROP TABLE bikes")
