"""Spark profile build of 10M rows against the local build of the same Parquet: time and equality.

Writes 10M rows x (10 numeric + 2 label) columns as Parquet (1M-row files, 100k-row groups) to a
temporary folder, profiles it with ``driftloop profile build``'s local reader and with
``driftloop.spark.profile_source`` on a real ``local[2]`` Spark session, then prints both times
and checks the two profiles: row, null and inf counts, extremes and category counts must be equal,
means and sums of squared deviations equal to floating-point rounding, and each build's quantiles
(the sketch read at 99 ranks) within the sketch's rank error of the exact ones. The data is
deleted after.

    python benchmarks/bench_spark.py [--rows 10000000] [--out benchmarks/results/spark.json]
    python benchmarks/bench_spark.py --cores 1,2 [--rows 10000000]

With ``--cores`` it instead measures scaling on the same files: for each N, the local build with
N workers and Spark ``local[N]`` (a fresh session each), wall seconds and the cost per row per
core (wall x N / rows), the figures a cluster plan starts from (docs/spark.md).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

N_NUMERIC, N_LABEL = 10, 2
FILE_ROWS = 1_000_000


def write_source(folder: Path, rows: int) -> None:
    """``rows`` seeded rows in 1M-row Parquet files: normal, skewed, integer and label columns."""
    labels = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    for part, start in enumerate(range(0, rows, FILE_ROWS)):
        n = min(FILE_ROWS, rows - start)
        rng = np.random.default_rng(part)
        cols: dict[str, Any] = {}
        for i in range(N_NUMERIC):
            kind = i % 3
            if kind == 0:
                cols[f"num_{i}"] = rng.normal(10 * i, 1 + i, n)
            elif kind == 1:
                cols[f"num_{i}"] = rng.lognormal(0, 1, n)
            else:
                cols[f"num_{i}"] = rng.integers(0, 100_000, n).astype(np.float64)
        for j in range(N_LABEL):
            cols[f"cat_{j}"] = labels[rng.integers(0, labels.size, n)]
        frame = pl.DataFrame(cols).with_columns(
            pl.when(pl.int_range(n) % 101 == 0).then(None).otherwise(pl.col("num_0")).alias("num_0")
        )
        frame.write_parquet(folder / f"part-{part:03d}.parquet", row_group_size=100_000)


def session(cores: int = 2) -> Any:
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # executors import this venv's driftloop
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("driftloop-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


def quantile_error(folder: Path, name: str, built: Any) -> float:
    """Largest gap between the nominal rank and the exact rank of the sketch's quantile."""
    exact = pl.scan_parquet(folder / "*.parquet").select(pl.col(name)).collect()[name]
    values = np.sort(exact.drop_nulls().to_numpy())
    ranks = np.linspace(0.01, 0.99, 99)
    sketch = built.column(name).numeric.quantile_sketch()
    estimates = np.asarray(sketch.get_quantiles(ranks))
    low = np.searchsorted(values, estimates, side="left") / values.size
    high = np.searchsorted(values, estimates, side="right") / values.size
    # an estimate equal to a tied value is right for any rank between its two ends
    gap = np.where(ranks < low, low - ranks, np.where(ranks > high, ranks - high, 0.0))
    return float(gap.max())


def compare(local: Any, spark: Any, folder: Path) -> dict[str, Any]:
    from driftloop.profiles.numeric import rank_error

    exact_parts = local.height == spark.height and local.columns == spark.columns
    worst_moment, worst_rank = 0.0, {"local": 0.0, "spark": 0.0}
    for a, b in zip(local.profiles, spark.profiles, strict=True):
        exact_parts &= (a.n_rows, a.n_null, a.n_inf) == (b.n_rows, b.n_null, b.n_inf)
        exact_parts &= a.labels == b.labels
        if a.numeric is None or b.numeric is None:
            continue
        x, y = a.numeric, b.numeric
        exact_parts &= (x.count, x.minimum, x.maximum) == (y.count, y.minimum, y.maximum)
        for u, v in ((x.mean, y.mean), (x.m2, y.m2)):
            worst_moment = max(worst_moment, abs(u - v) / max(abs(u), 1e-300))
        for which, built in (("local", local), ("spark", spark)):
            worst_rank[which] = max(worst_rank[which], quantile_error(folder, a.name, built))
    bound = rank_error()
    return {
        "counts_extremes_categories_equal": bool(exact_parts),
        "moments_max_relative_difference": worst_moment,
        "moments_equal_to_rounding": worst_moment <= 1e-9,
        "quantile_max_rank_error": worst_rank,
        "rank_error_bound": bound,
        "quantiles_within_bound": all(e <= bound for e in worst_rank.values()),
    }


def run(rows: int) -> dict[str, Any]:
    from driftloop.profiles.reading import profile_source
    from driftloop.spark import profile_source as spark_profile_source

    with tempfile.TemporaryDirectory(dir="/tmp") as name:
        folder = Path(name)
        write_source(folder, rows)
        size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        print(f"source: {rows:,} rows x {N_NUMERIC + N_LABEL} columns, Parquet {size:.0f} MB")
        started = time.perf_counter()
        local = profile_source(str(folder))
        local_s = time.perf_counter() - started
        print(f"local build: {local_s:.1f} s")
        spark = session()
        spark.range(1).count()  # JVM and Python workers up before the clock starts
        started = time.perf_counter()
        built = spark_profile_source(str(folder), session=spark)
        spark_s = time.perf_counter() - started
        spark.stop()
        print(f"Spark local[2] build: {spark_s:.1f} s")
        result = {"rows": rows, "local_seconds": local_s, "spark_seconds": spark_s}
        result |= compare(local, built, folder)
    return result


def scaling(rows: int, cores: list[int]) -> list[str]:
    """Local and Spark builds of the same files at each core count: seconds, µs per row-core."""
    from driftloop.profiles.reading import profile_source
    from driftloop.spark import profile_source as spark_profile_source

    lines = []
    with tempfile.TemporaryDirectory(dir="/tmp") as name:
        folder = Path(name)
        write_source(folder, rows)
        for n in cores:
            started = time.perf_counter()
            profile_source(str(folder), workers=n)
            local_s = time.perf_counter() - started
            spark = session(n)
            spark.range(1).count()  # JVM and Python workers up before the clock starts
            started = time.perf_counter()
            spark_profile_source(str(folder), session=spark)
            spark_s = time.perf_counter() - started
            spark.stop()
            per = [s * n / rows * 1e6 for s in (local_s, spark_s)]
            ratio = spark_s / local_s
            lines.append(f"{n} core(s), {rows:,} rows: local {local_s:.1f} s "
                         f"({per[0]:.2f} µs per row-core), Spark local[{n}] {spark_s:.1f} s "
                         f"({per[1]:.2f} µs per row-core), Spark / local {ratio:.2f}")  # fmt: skip
            print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--out", default="")
    parser.add_argument("--cores", default="", help="scaling at these core counts, e.g. 1,2")
    args = parser.parse_args()
    if args.cores:
        scaling(args.rows, [int(n) for n in args.cores.split(",")])
        return
    result = run(args.rows)
    for key, value in result.items():
        shown = f"{value:.3g}" if isinstance(value, float) and not math.isnan(value) else value
        print(f"{key}: {shown}")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
