"""DuckDB's single pass over the benchmark's Parquet folder: per numeric column count, nulls, min,
max, mean and 99 approximate quantiles; per categorical column its counts (``histogram``). Run by
bench_profile_build.py in DuckDB's own virtual environment (``benchmarks/.peers/duckdb``).

    python duckdb_profile.py FOLDER NUMERIC,COLUMNS CATEGORICAL,COLUMNS   # prints one JSON line
"""

import json
import sys
import time


def profile(folder: str, numeric: list[str], labels: list[str]) -> None:
    import duckdb

    grid = [round(q / 100, 2) for q in range(1, 100)]
    parts = []
    for c in numeric:
        parts += [
            f'count("{c}")',
            f'count(*) - count("{c}")',
            f'min("{c}")',
            f'max("{c}")',
            f'avg("{c}")',
            f'approx_quantile("{c}", {grid})',
        ]
    parts += [f'histogram("{c}")' for c in labels]
    sql = f"SELECT {', '.join(parts)} FROM read_parquet('{folder}/*.parquet')"
    started = time.perf_counter()
    row = duckdb.connect().execute(sql).fetchone()
    seconds = time.perf_counter() - started
    out: dict[str, object] = {"seconds": seconds, "columns": {}}
    for i, c in enumerate(numeric):
        count, nulls, lo, hi, mean, quantiles = row[6 * i : 6 * i + 6]
        out["columns"][c] = {  # type: ignore[index]
            "count": count, "nulls": nulls, "min": lo, "max": hi, "mean": mean,
            "quantiles": quantiles,
        }  # fmt: skip
    for j, c in enumerate(labels):
        out["columns"][c] = {"counts": dict(row[6 * len(numeric) + j])}  # type: ignore[index]
    print(json.dumps(out))


if __name__ == "__main__":
    profile(sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(","))
