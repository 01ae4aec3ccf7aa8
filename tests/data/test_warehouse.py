"""The warehouse on the real PostgreSQL server and on SQLite: exactly once, all or nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
import psycopg
import pytest

from driftloop.data.warehouse import Warehouse
from driftloop.errors import (
    ConfigError,
    EmptyDataError,
    SchemaError,
    SourceError,
    ValueQualityError,
)

D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 1, 31)


def window(n: int = 1000, seed: int = 0, start: dt.date = D1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "day": [start + dt.timedelta(days=int(i) % 28) for i in range(n)],
            "temp": rng.normal(size=n),
            "cnt": rng.integers(0, 9000, n),
            "city": rng.choice(["a", "b", ""], n),
        }
    ).with_columns(
        pl.when(pl.int_range(n) % 7 == 0).then(None).otherwise(pl.col("city")).alias("city")
    )


@pytest.fixture(params=["postgres", "sqlite"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("pg_url")


def test_append_creates_the_table_and_round_trips(url: str) -> None:
    wh = Warehouse(url)
    frame = window()
    result = wh.append(frame, pipeline="bikes", window_start=D1, window_end=D2)
    assert (result.action, result.rows, result.replaced_rows) == ("inserted", 1000, 0)
    back = wh.read("current").sort("day", "temp")
    assert back.equals(frame.sort("day", "temp"))  # nulls vs empty strings preserved


@pytest.mark.parametrize("zone", [None, "Europe/Lisbon"], ids=["naive", "zoned"])
def test_timestamps_with_and_without_a_zone_round_trip(url: str, zone: str | None) -> None:
    """A naive timestamp column (an event time, an updated_at) once broke PostgreSQL's COPY."""
    at = [dt.datetime(2011, 2, 1, 8, 30), dt.datetime(2011, 2, 3, 23, 59, 59, 250_000)]
    frame = pl.DataFrame({"day": [D1, D2], "seen_at": at, "temp": [0.5, 1.5]}).with_columns(
        pl.col("seen_at").dt.replace_time_zone(zone)
    )
    wh = Warehouse(url)
    wh.append(frame, pipeline="bikes", window_start=D1, window_end=D2)
    back = wh.read("current").sort("day")["seen_at"]
    if back.dtype == pl.String:  # SQLite keeps timestamps as ISO text
        back = back.str.to_datetime()
    if zone is None:
        assert back.to_list() == at
    else:  # the instants are kept
        assert back.dt.convert_time_zone("UTC").to_list() == (
            frame["seen_at"].dt.convert_time_zone("UTC").to_list()
        )


def test_durations_and_nested_values_are_kept_as_text(url: str) -> None:
    """No SQL type holds them; they once stopped the append with a Polars cast error."""
    frame = pl.DataFrame(
        {
            "day": [D1, D2],
            "trip": [dt.timedelta(hours=1, seconds=3), None],
            "tags": [["a", "b"], None],
            "point": [{"x": 1.5, "y": None}, {"x": 2.0, "y": 3.0}],
        }
    )
    wh = Warehouse(url)
    wh.append(frame, pipeline="bikes", window_start=D1, window_end=D2)
    back = wh.read("current").sort("day")
    assert back["trip"].to_list() == ["PT1H3S", None]
    assert back["tags"].to_list() == ['["a","b"]', None]
    assert back["point"].to_list() == ['{"x":1.5,"y":null}', '{"x":2.0,"y":3.0}']


def test_append_twice_keeps_one_copy(url: str) -> None:
    wh = Warehouse(url)
    frame = window()
    wh.append(frame, pipeline="bikes", window_start=D1, window_end=D2)
    again = wh.append(frame, pipeline="bikes", window_start=D1, window_end=D2)
    assert (again.action, again.replaced_rows) == ("replaced", 1000)
    assert wh.count("current") == 1000
    skipped = wh.append(
        window(seed=9), pipeline="bikes", window_start=D1, window_end=D2, on_conflict="skip"
    )
    assert skipped.action == "skipped" and wh.count("current") == 1000
    assert [a["rows"] for a in wh.appends("bikes")] == [1000]


def test_windows_and_pipelines_are_separate_keys(url: str) -> None:
    wh = Warehouse(url)
    wh.append(window(), pipeline="bikes", window_start=D1, window_end=D2)
    wh.append(
        window(500, start=dt.date(2024, 2, 1)),
        pipeline="bikes",
        window_start=dt.date(2024, 2, 1),
        window_end=dt.date(2024, 2, 29),
    )
    wh.append(window(300), pipeline="scooters", window_start=D1, window_end=D2)
    assert wh.count("current") == 1800
    assert wh.read("current", pipeline="scooters").height == 300
    assert len(wh.appends()) == 3


def test_bad_value_at_row_900_leaves_the_table_unchanged(url: str) -> None:
    wh = Warehouse(url)
    wh.append(window(), pipeline="bikes", window_start=D1, window_end=D2)
    before = wh.read("current").sort("day", "temp")
    bad = window(seed=1).with_columns(pl.col("cnt").cast(pl.String))
    bad = bad.with_columns(
        pl.when(pl.int_range(1000) == 899).then(pl.lit("n/a")).otherwise(pl.col("cnt")).alias("cnt")
    )
    with pytest.raises(
        ValueQualityError,
        match=r"^Failed appending 2024-01-01\.\.2024-01-31 to table 'current' at row 900, column 'cnt': 'n/a' is not a valid BIGINT\. Nothing was written; fix the data and re-run\.$",
    ):
        wh.append(bad, pipeline="bikes", window_start=D1, window_end=D2)
    assert wh.read("current").sort("day", "temp").equals(before)
    assert [a["rows"] for a in wh.appends()] == [1000]


@pytest.mark.postgres
def test_connection_killed_mid_append_leaves_the_table_unchanged(pg_url: str) -> None:
    wh = Warehouse(pg_url)
    wh.append(window(), pipeline="bikes", window_start=D1, window_end=D2)
    big = window(400_000, seed=2)
    killed = threading.Event()

    def kill_the_copy() -> None:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            for _ in range(400):
                n = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND query LIKE 'COPY%'"
                ).fetchone()[0]
                if n:
                    killed.set()
                    return
                time.sleep(0.005)

    killer = threading.Thread(target=kill_the_copy)
    killer.start()
    with pytest.raises(
        SourceError,
        match=r"^Lost the connection to postgresql://root@127\.0\.0\.1:5432/driftloop_test_\w+ while appending 2024-01-01\.\.2024-01-31 to table 'current'; the transaction was rolled back and nothing was written\. Re-running it is safe\.$",
    ):
        wh.append(big, pipeline="bikes", window_start=D1, window_end=D2)
    killer.join()
    assert killed.is_set()
    assert wh.count("current") == 1000
    assert [a["rows"] for a in wh.appends()] == [1000]
    retry = wh.append(big, pipeline="bikes", window_start=D1, window_end=D2)  # resume is safe
    assert retry.action == "replaced" and wh.count("current") == 400_000


def test_concurrent_appends(url: str) -> None:
    wh = Warehouse(url)
    feb = (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    jobs = [(window(2000, seed=s), D1, D2) for s in range(3)]  # the same window, three times
    jobs += [(window(1500, start=feb[0]), *feb)]
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda j: Warehouse(url).append(
                    j[0], pipeline="bikes", window_start=j[1], window_end=j[2]
                ),
                jobs,
            )
        )
    assert sorted(r.action for r in results[:3]) == ["inserted", "replaced", "replaced"]
    assert wh.count("current") == 2000 + 1500
    assert sorted(a["rows"] for a in wh.appends()) == [1500, 2000]


def test_seed_reference(url: str) -> None:
    wh = Warehouse(url)
    assert wh.seed(window(), table="reference") == 1000
    with pytest.raises(
        SchemaError,
        match=r"^Table 'reference' already exists in .*\. Use --if-exists replace or append\.$",
    ):
        wh.seed(window(), table="reference")
    wh.seed(window(10), table="reference", if_exists="replace")
    assert wh.count("reference") == 10
    wh.seed(window(5), table="reference", if_exists="append")
    assert wh.count("reference") == 15
    with pytest.raises(EmptyDataError):
        wh.seed(window(0), table="reference", if_exists="append")


def test_identifiers_from_data_cannot_inject_sql(url: str) -> None:
    wh = Warehouse(url)
    evil = window(20).rename({"temp": 'temp"); DROP TABLE current; --'})
    wh.append(evil, pipeline="bikes", window_start=D1, window_end=D2)
    back = wh.read("current")
    assert 'temp"); DROP TABLE current; --' in back.columns and back.height == 20
    with pytest.raises(ConfigError, match=r"^Invalid table name 'current; DROP TABLE x'"):
        wh.append(
            window(),
            pipeline="bikes",
            window_start=D1,
            window_end=D2,
            table="current; DROP TABLE x",
        )


def test_unknown_column_in_existing_table(url: str) -> None:
    wh = Warehouse(url)
    wh.append(window(), pipeline="bikes", window_start=D1, window_end=D2)
    with pytest.raises(
        SchemaError,
        match=r"^Column 'extra' is not in warehouse table 'current' \(its columns: day, temp, cnt, city\)\. Add the column to the table or drop it from the data\.$",
    ):
        wh.append(
            window().with_columns(pl.lit(1).alias("extra")),
            pipeline="bikes",
            window_start=D1,
            window_end=D2,
        )


def test_bad_window_and_mode(url: str) -> None:
    wh = Warehouse(url)
    with pytest.raises(
        ConfigError, match=r"^Window end 2024-01-01 is before its start 2024-01-31\.$"
    ):
        wh.append(window(), pipeline="p", window_start=D2, window_end=D1)
    with pytest.raises(
        ConfigError, match=r"^on_conflict must be 'replace' or 'skip'\. Got 'merge'\.$"
    ):
        wh.append(window(), pipeline="p", window_start=D1, window_end=D2, on_conflict="merge")  # type: ignore[arg-type]


def test_unreachable_warehouse_hides_password() -> None:
    wh = Warehouse("postgresql://app:hunter2@127.0.0.1:1/prod")
    with pytest.raises(SourceError) as info:
        wh.append(window(), pipeline="p", window_start=D1, window_end=D2)
    assert (
        str(info.value)
        == "Cannot connect to postgresql://app:***@127.0.0.1:1/prod: is the database running and reachable?"
    )
    assert "hunter2" not in repr(wh)


@pytest.mark.postgres
def test_copy_failure_names_the_row_and_rolls_back(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE current (day date, temp float8, cnt integer, city text)")
    wh = Warehouse(pg_url)
    frame = window().with_columns(
        pl.when(pl.int_range(1000) == 899).then(2**40).otherwise(pl.col("cnt")).alias("cnt")
    )
    frame = frame.with_columns(pl.lit("p").alias("driftloop_pipeline"))  # table lacks bookkeeping
    with pytest.raises(
        SchemaError, match=r"^Column 'driftloop_pipeline' is not in warehouse table 'current'"
    ):
        wh.append(frame.drop("driftloop_pipeline"), pipeline="p", window_start=D1, window_end=D2)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "ALTER TABLE current ADD COLUMN driftloop_pipeline text, ADD COLUMN driftloop_window_start date, ADD COLUMN driftloop_window_end date"
        )
    with pytest.raises(
        SourceError,
        match=r"^Failed appending 2024-01-01\.\.2024-01-31 to table 'current' at row 900, column 'cnt': value \"1099511627776\" is out of range for type integer\. Nothing was written; fix the data and re-run\.$",
    ):
        wh.append(frame.drop("driftloop_pipeline"), pipeline="p", window_start=D1, window_end=D2)
    assert wh.count("current") == 0 and wh.appends() == []


def test_an_empty_append_records_nothing_so_the_real_one_still_loads(url: str) -> None:
    wh = Warehouse(url)
    with pytest.raises(EmptyDataError, match=r"^No rows to append for 2024-01-01\.\.2024-01-31"):
        wh.append(window(0), pipeline="p", window_start=D1, window_end=D2)
    result = wh.append(window(), pipeline="p", window_start=D1, window_end=D2, on_conflict="skip")
    assert result.action == "inserted" and wh.count("current") == 1000


def test_rows_outside_the_window_are_refused(url: str) -> None:
    from driftloop.errors import DataError

    wh = Warehouse(url)
    late = window(50, start=dt.date(2024, 1, 20))  # days 20..47: some in February
    with pytest.raises(
        DataError,
        match=r"^26 of 50 rows to append have 'day' outside 2024-01-01\.\.2024-01-31 \(first: 2024-02-01\)\. Keep only",
    ):
        wh.append(late, pipeline="p", window_start=D1, window_end=D2, date_column="day")
    assert wh.appends("p") == []  # nothing written


def test_overlapping_windows_are_refused_not_stored_twice(url: str) -> None:
    from driftloop.errors import DataError

    wh = Warehouse(url)
    wh.append(window(100), pipeline="p", window_start=D1, window_end=dt.date(2024, 1, 15))
    later = dt.date(2024, 1, 10)
    with pytest.raises(
        DataError,
        match=r"^Window 2024-01-10\.\.2024-01-31 overlaps the window 2024-01-01\.\.2024-01-15 already appended for pipeline 'p' in 'current'",
    ):
        wh.append(window(100, seed=1), pipeline="p", window_start=later, window_end=D2)
    assert wh.count("current") == 100
    wh.append(window(100, seed=2), pipeline="p", window_start=D1, window_end=dt.date(2024, 1, 15))
    assert wh.count("current") == 100  # the same window again replaces
    wh.append(window(100), pipeline="other", window_start=later, window_end=D2)  # other pipeline


def test_seed_replace_forgets_the_replaced_tables_windows(url: str) -> None:
    wh = Warehouse(url)
    wh.append(window(10), pipeline="p", window_start=D1, window_end=D2, table="mixed")
    wh.seed(window(5), table="mixed", if_exists="replace")
    assert [a for a in wh.appends("p") if a["table_name"] == "mixed"] == []


def test_a_new_sqlite_file_gets_its_folder_on_first_use(tmp_path) -> None:
    folder = tmp_path / ".driftloop" / "nested"
    warehouse = Warehouse(f"sqlite:///{folder / 'warehouse.db'}")
    assert not folder.exists()  # nothing is created before a connection
    warehouse.append(window(10), pipeline="p", window_start=D1, window_end=D2)
    assert (folder / "warehouse.db").is_file()
