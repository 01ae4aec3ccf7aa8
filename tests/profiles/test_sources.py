"""``driftloop profile build`` from PostgreSQL and SQLite tables, http(s) and s3 URLs, and on two
workers: each build equals the profile of the same rows from a frame."""

from __future__ import annotations

import datetime as dt
import math
import re
import sqlite3
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.profiles import Profile, load_profile, profile, sqlsource
from driftloop.profiles.reading import profile_source

from .test_merge import assert_same

DAY0 = dt.date(2026, 1, 1)


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    n = 12_000
    x = rng.normal(size=n)
    x[::97] = np.nan  # nulls as the engine counts them
    return pl.DataFrame(
        {
            "day": [DAY0 + dt.timedelta(days=int(d)) for d in np.arange(n) // 100],
            "x": pl.Series(x).fill_nan(None),
            "k": rng.poisson(3, size=n),
            "c": rng.choice(["north", "south", "east", "west"], size=n),
        }
    )


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def without(p: Profile, name: str) -> Profile:
    return Profile(tuple(c for c in p.profiles if c.name != name), p.n_rows)


def one_line_error(output: str, message: str) -> None:
    assert re.search(message, output), output
    assert len(output.strip().splitlines()) == 1 and "Traceback" not in output


FEB = ("--date-column", "day", "--start", "2026-02-01", "--end", "2026-03-01")


def feb(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("day").is_between(dt.date(2026, 2, 1), dt.date(2026, 3, 1), "left"))


# -- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture()
def pg_table(pg_url: str, frame: pl.DataFrame) -> str:
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(pg_url) as conn, conn.cursor() as cursor:
        cursor.adbc_ingest("sales", frame.to_arrow(), mode="create")
        conn.commit()
    return pg_url


@pytest.mark.postgres
def test_a_postgres_table_profiles_like_its_frame(
    pg_table: str, frame: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFTLOOP_TEST_PG", pg_table)
    out = tmp_path / "ref.profile"
    code, output = run(
        "profile", "build", "${DRIFTLOOP_TEST_PG}", "--table", "sales", "--out", str(out)
    )
    assert code == 0, output
    assert_same(load_profile(out), profile(frame))


@pytest.mark.postgres
def test_a_postgres_window_is_pushed_into_the_query(
    pg_table: str, frame: pl.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "feb.profile"
    code, output = run("profile", "build", pg_table, "--table", "sales", *FEB, "--out", str(out))
    assert code == 0, output
    assert_same(load_profile(out), profile(feb(frame)))


@pytest.mark.postgres
def test_a_postgres_query_is_read_in_several_batches(
    pg_table: str, frame: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlsource, "BATCH_BYTES", 32_000)
    seen: list[tuple[int, int]] = []
    built = profile_source(
        pg_table,
        query="SELECT x, c FROM sales WHERE k >= 2",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert_same(built, profile(frame.filter(pl.col("k") >= 2).select("x", "c")))
    assert len(seen) > 3  # batch by batch
    assert seen[-1][0] == seen[-1][1] == built.height  # the COUNT(*) total, reached


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--table", "nope"],
            r"^error: Cannot read table 'nope' from postgresql://root:\*\*\*@.*: it does not exist",
        ),
        (
            ["--table", "sales", "--date-column", "when", "--start", "2026-02-01"],
            r"Date column 'when' is not in table 'sales' of postgresql://root:\*\*\*@.*\. Columns: day, x, k, c\.$",
        ),
        (["--table", "sales", "--query", "SELECT 1"], "exactly one of --table or --query"),
        (["--table", "sales; drop table sales"], "Invalid table name"),
        (
            ["--table", "sales", "--date-column", "day", "--start", "2100-01-01"],
            r"has no rows in \[2100-01-01, None\) on day",
        ),
    ],
    ids=[
        "unknown table",
        "missing date column",
        "table and query",
        "bad table name",
        "empty window",
    ],
)
def test_bad_database_input_is_one_line_without_the_password(
    pg_table: str, tmp_path: Path, args: list[str], message: str
) -> None:
    url = pg_table.replace("root@", "root:hunter2@")  # trust auth: the password is ignored
    out = tmp_path / "ref.profile"
    code, output = run("profile", "build", url, *args, "--out", str(out))
    assert code == 2
    one_line_error(output, message)
    assert "hunter2" not in output and not out.exists()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "postgresql://app:hunter2@127.0.0.1:1/prod",
            r"Cannot connect to postgresql://app:\*\*\*@127\.0\.0\.1:1/prod",
        ),
        (
            "postgresql://root:hunter2@127.0.0.1:5432/no_such_db",
            "database 'no_such_db' does not exist",
        ),
        ("postgresql://app:hunter2@127.0.0.1:port/db", "not a valid SQLAlchemy URL"),
        (
            "nosuchdialect://app:hunter2@host/db",
            r"Cannot use database URL nosuchdialect://app:\*\*\*@host/db",
        ),
        (
            "postgresql://app:${DRIFTLOOP_UNSET_SECRET}@host/db",
            r"SOURCE references \$\{DRIFTLOOP_UNSET_SECRET\}, which is not set",
        ),
    ],
    ids=["refused", "no database", "bad url", "unknown dialect", "unset env"],
)
def test_bad_database_urls_are_one_line_without_the_password(
    tmp_path: Path, source: str, message: str
) -> None:
    out = tmp_path / "ref.profile"
    code, output = run("profile", "build", source, "--table", "t", "--out", str(out))
    assert code == 2
    one_line_error(output, message)
    assert "hunter2" not in output and not out.exists()


# -- SQLite ----------------------------------------------------------------------------------------


@pytest.fixture()
def sqlite_url(tmp_path: Path, frame: pl.DataFrame) -> str:
    path = tmp_path / "warehouse.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sales (day DATE, x REAL, k INTEGER, c TEXT)")
        rows = [(d.isoformat(), x, k, c) for d, x, k, c in frame.iter_rows()]
        conn.executemany("INSERT INTO sales VALUES (?, ?, ?, ?)", rows)
    return f"sqlite:///{path}"


def test_a_sqlite_table_streams_in_partitions_like_its_frame(
    sqlite_url: str, frame: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlsource, "BATCH_ROWS", 1_000)  # 12 partitions, x null in none of them
    built = profile_source(sqlite_url, table="sales")
    assert_same(without(built, "day"), profile(frame.drop("day")))
    window = profile_source(
        sqlite_url,
        table="sales",
        date_column="day",
        start=dt.date(2026, 2, 1),
        end=dt.date(2026, 3, 1),
    )
    assert_same(without(window, "day"), profile(feb(frame).drop("day")))


def test_a_column_null_in_a_whole_partition_keeps_its_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'gaps.db'}"
    with sqlite3.connect(tmp_path / "gaps.db") as conn:
        conn.execute("CREATE TABLE t (x REAL, c TEXT)")
        rows = [(float(i), "a") if i < 10 else (None, None) for i in range(30)]
        conn.executemany("INSERT INTO t VALUES (?, ?)", rows)
    monkeypatch.setattr(sqlsource, "BATCH_ROWS", 10)
    built = profile_source(url, table="t")
    assert built.column("x").numeric.count == 10 and built.column("x").n_null == 20
    assert built.column("c").labels.total == 10 and built.column("c").n_null == 20


def test_sqlite_bad_inputs(sqlite_url: str, tmp_path: Path) -> None:
    out = tmp_path / "ref.profile"
    code, output = run("profile", "build", sqlite_url, "--table", "nope", "--out", str(out))
    assert code == 2
    one_line_error(output, r"Cannot read table 'nope' from sqlite:///.*: it does not exist")
    code, output = run(
        "profile",
        "build",
        sqlite_url,
        "--table",
        "sales",
        "--date-column",
        "when",
        "--out",
        str(out),
    )
    assert code == 2
    one_line_error(output, r"Date column 'when' is not in table 'sales'")
    code, output = run("profile", "build", str(tmp_path), "--table", "sales", "--out", str(out))
    assert code == 2
    one_line_error(output, "--table and --query need a database URL as SOURCE")
    assert not out.exists()


# -- URLs ----------------------------------------------------------------------------------------


def test_an_http_parquet_and_csv_file(http_files, frame: pl.DataFrame, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, root = http_files
    frame.write_parquet(root / "sales.parquet", row_group_size=2_000)
    frame.write_csv(root / "sales.csv")
    out = tmp_path / "ref.profile"
    code, output = run(
        "profile", "build", f"{base}/sales.parquet?token=abc", *FEB, "--out", str(out)
    )
    assert code == 0, output
    assert_same(load_profile(out), profile(feb(frame)))
    code, output = run("profile", "build", f"{base}/sales.csv", "--out", str(out))
    assert code == 0, output
    assert_same(without(load_profile(out), "day"), profile(frame.drop("day")))


def test_bad_http_sources_are_one_line(http_files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _ = http_files
    out = tmp_path / "ref.profile"
    for url, message in [
        (
            f"{base}/missing.parquet?token=s3cr3t",
            rf"Fetching {re.escape(base)}/missing\.parquet answered HTTP 404",
        ),
        (f"{base}/html/page.parquet", "answered with an HTML page"),
        (f"{base}/data.json", r"Cannot tell the format of .*data\.json from its suffix '\.json'"),
    ]:
        code, output = run("profile", "build", url, "--out", str(out))
        assert code == 2
        one_line_error(output, message)
        assert "s3cr3t" not in output and not out.exists()


def test_an_s3_folder_and_glob(s3_env, frame: pl.DataFrame, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client = s3_env.client()
    for i, part in enumerate(frame.iter_slices(5_000)):
        local = tmp_path / f"part-{i}.parquet"
        part.write_parquet(local, row_group_size=1_500)
        client.upload_file(str(local), s3_env.bucket, f"sales/part-{i}.parquet")
    client.put_object(Bucket=s3_env.bucket, Key="sales/notes/readme.txt", Body=b"not data")
    out = tmp_path / "ref.profile"
    code, output = run(
        "profile",
        "build",
        f"s3://{s3_env.bucket}/sales/*.parquet",
        "--out",
        str(out),
        "--workers",
        "2",
    )
    assert code == 0, output
    assert_same(load_profile(out), profile(frame))
    code, output = run(
        "profile", "build", f"s3://{s3_env.bucket}/sales/part-1.parquet", *FEB, "--out", str(out)
    )
    assert code == 0, output
    assert_same(load_profile(out), profile(feb(frame.slice(5_000, 5_000))))
    code, output = run(
        "profile", "build", f"s3://{s3_env.bucket}/nothing/", "--out", str(tmp_path / "x")
    )
    assert code == 2
    one_line_error(output, r"Source s3://models/nothing/ matches no files")


def test_s3_with_a_wrong_secret_is_one_line_without_it(
    s3_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    s3_env.client().put_object(Bucket=s3_env.bucket, Key="one/x.parquet", Body=b"x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value")
    out = tmp_path / "ref.profile"
    code, output = run("profile", "build", f"s3://{s3_env.bucket}/one/x.parquet", "--out", str(out))
    assert code == 2
    one_line_error(
        output, r"^error: Cannot read s3://models/one/x\.parquet: .*Check the credentials"
    )
    assert "wrong-secret-value" not in output and not out.exists()


# -- two workers ----------------------------------------------------------------------------------


def test_two_workers_equal_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 60_000
    big = pl.DataFrame(
        {
            "x": rng.lognormal(size=n),
            "k": rng.integers(0, 5, size=n),
            "c": rng.choice([f"s{i}" for i in range(30)], size=n),
        }
    )
    big.write_parquet(tmp_path / "big.parquet", row_group_size=7_000)
    one = profile_source(str(tmp_path / "big.parquet"), workers=1)
    two = profile_source(str(tmp_path / "big.parquet"), workers=2)
    assert_same(two, one)
    assert_same(two, profile(big))
    a, b = one.column("x").numeric, two.column("x").numeric
    assert (a.mean, a.m2) == (b.mean, b.m2)  # the same merge order: bit for bit
    whole = np.sort(big["x"].to_numpy())
    ranks = np.linspace(0.01, 0.99, 25)
    estimates = np.asarray(b.quantile_sketch().get_quantiles(ranks))  # type: ignore[attr-defined]
    true_ranks = np.searchsorted(whole, estimates, side="right") / n
    bound = two.column("x").rank_error
    assert bound > 0 and np.max(np.abs(true_ranks - ranks)) <= bound + 2 / n
    assert math.isclose(b.mean, float(whole.mean()), rel_tol=1e-12)


def test_a_csv_folder_on_two_workers_with_a_window(frame: pl.DataFrame, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    frame.head(7_000).write_csv(folder / "a.csv")
    frame.tail(5_000).write_csv(folder / "b.csv")
    built = profile_source(str(folder), workers=2)
    assert_same(without(built, "day"), profile(frame.drop("day")))
    window = profile_source(
        str(folder),
        workers=2,
        date_column="day",
        start=dt.date(2026, 2, 1),
        end=dt.date(2026, 3, 1),
    )
    assert_same(without(window, "day"), profile(feb(frame).drop("day")))


def test_workers_that_cannot_start_fall_back_to_one_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "x.parquet"
    pl.DataFrame({"x": np.arange(40_000.0)}).write_parquet(path, row_group_size=10_000)
    script = (  # a main module read from stdin cannot be imported again by worker processes
        "from driftloop.profiles.reading import profile_source\n"
        f"p = profile_source({str(path)!r}, workers=2)\n"
        "print(p.height, p.column('x').numeric.mean)\n"
    )
    done = subprocess.run(
        [sys.executable, "-"], input=script, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.split() == ["40000", "19999.5"]
