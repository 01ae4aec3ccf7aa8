"""Does `calibrate` land on its target out of sample?

For each of 20 one-month references of the bike-sharing days (the synthetic data by default,
a day.csv with ``--data``), calibrate thresholds for weekly windows (7 rows against the rest of
the month) at ``--target``, then measure the rate at which *any* column flags on no-drift
windows the calibration never saw (fresh splits, another seed). Prints each reference's
out-of-sample rate, their mean and the largest miss, with the standard error of one rate.

    python benchmarks/bench_calibrate.py --simulations 400 --check 400
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from driftloop.drift.calibrate import calibrate

COLUMNS = [
    "season", "holiday", "weekday", "workingday", "weathersit", "temp", "atemp", "hum",
    "windspeed", "casual", "registered", "cnt",
]  # fmt: skip


def months(data: str | None) -> list[pl.DataFrame]:
    if data:
        frame = pl.read_csv(data, try_parse_dates=True)
    else:
        from driftloop.data.synthetic import bike_sharing

        frame = bike_sharing()
    frame = frame.with_columns(pl.col("dteday").cast(pl.Date))
    keys = frame.select(pl.col("dteday").dt.strftime("%Y-%m")).to_series()
    return [frame.filter(keys == key) for key in sorted(set(keys.to_list()))[:20]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a bike-sharing day.csv (default: the synthetic one)")
    parser.add_argument("--target", type=float, default=1 / 13)
    parser.add_argument("--simulations", type=int, default=400)
    parser.add_argument("--check", type=int, default=400, help="out-of-sample windows each")
    args = parser.parse_args()
    began, rates = time.perf_counter(), []
    print("| reference | in sample | out of sample |\n|---|---|---|")
    for i, month in enumerate(months(args.data)):
        pool = month.select(COLUMNS)
        sizes = {"window_rows": 7, "reference_rows": pool.height - 7, "columns": COLUMNS}
        c = calibrate(pool, **sizes, target_rate=args.target, simulations=args.simulations, seed=i)
        check = calibrate(
            pool, **sizes, target_rate=args.target, simulations=args.check, seed=1000 + i,
            settings={"columns": c.thresholds()},
        )  # fmt: skip
        rates.append(check.any_rate_current)
        label = month["dteday"][0].strftime("%Y-%m")
        print(f"| {label} | {c.any_rate_proposed:.1%} | {check.any_rate_current:.1%} |", flush=True)
    held = args.check - args.check // 2
    se = np.sqrt(args.target * (1 - args.target) / held)
    misses = np.abs(np.array(rates) - args.target)
    print(
        f"\ntarget {args.target:.1%}: out-of-sample mean {np.mean(rates):.1%}, largest miss "
        f"{misses.max():.1%} (SE of one rate {se:.1%}); {time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    main()
