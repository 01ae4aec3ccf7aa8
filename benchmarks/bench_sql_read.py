"""Reading 1M rows x 16 columns from the local PostgreSQL: driftloop vs pandas.read_sql.

Creates a scratch database, seeds it through the warehouse (COPY; timed too), then reads the
whole table several times with ``driftloop.data.sql.read_sql`` (ADBC, Arrow) and with
``pandas.read_sql`` over SQLAlchemy, and prints the medians and the ratio (target ≥ 3x).

    python benchmarks/bench_sql_read.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import uuid

import numpy as np
import polars as pl
import psycopg

ADMIN = "postgresql://root@127.0.0.1:5432/postgres"


def build(rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    cols: dict[str, object] = {f"f{i}": rng.normal(size=rows) for i in range(8)}
    cols |= {f"i{i}": rng.integers(0, 10_000, rows) for i in range(4)}
    cols |= {f"s{i}": rng.choice(["north", "south", "east", "west"], rows) for i in range(2)}
    cols["day"] = pl.date_range(
        dt.date(2000, 1, 1), dt.date(2000, 1, 1) + dt.timedelta(days=rows - 1), eager=True
    )
    cols["flag"] = rng.integers(0, 2, rows).astype(bool)
    return pl.DataFrame(cols)


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import pandas as pd
    import sqlalchemy as sa

    from driftloop.data.sql import read_sql
    from driftloop.data.warehouse import Warehouse

    name = f"driftloop_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://root@127.0.0.1:5432/{name}"
    try:
        frame = build(args.rows)
        start = time.perf_counter()
        Warehouse(url).seed(frame, table="wide")
        seed_s = time.perf_counter() - start
        ours = timed(lambda: read_sql(url, table="wide"), args.repeats)
        engine = sa.create_engine(url)
        theirs = timed(lambda: pd.read_sql("SELECT * FROM wide", engine), args.repeats)
        engine.dispose()
        assert read_sql(url, table="wide").shape == frame.shape
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    mine, pandas_s = statistics.median(ours), statistics.median(theirs)
    print(f"SQL read benchmark: {args.rows:,} rows x 16 columns, local PostgreSQL")
    print(f"  seed (warehouse COPY)   {seed_s:.2f} s")
    print(f"  driftloop read_sql      median {mine:.3f} s  runs {[round(t, 3) for t in ours]}")
    print(
        f"  pandas.read_sql         median {pandas_s:.3f} s  runs {[round(t, 3) for t in theirs]}"
    )
    print(f"  speed-up: {pandas_s / mine:.1f}x")


if __name__ == "__main__":
    main()
