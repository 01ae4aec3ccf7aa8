"""The model's reliance on each feature, computed once per registered version: its cost.

Permutation importance (``driftloop.model.importance.reliance``) of the bike demand model
(``driftloop.model.bike``, trained on 2011 of the synthetic day data, scored on the latest 10%)
and of the demo's busy-hour classifier (``driftloop.model.busy``, January-March 2011 hourly,
holdout 25%): wall time, the median of 3, and the shares it gives.

    python benchmarks/bench_importance.py
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

import polars as pl

from driftloop.config import TrainingConfig
from driftloop.data.synthetic import bike_sharing
from driftloop.data.synthetic_hours import busy_hours
from driftloop.model.importance import reliance
from driftloop.model.train import fit


def measure(frame: pl.DataFrame, spec: TrainingConfig) -> str:
    trained = fit(frame, spec)
    estimator = getattr(trained.estimator, "best_estimator_", trained.estimator)
    times, shares = [], {}
    for _ in range(3):
        began = time.perf_counter()
        shares = reliance(estimator, trained.X_holdout, trained.y_holdout, trained.metric)
        times.append(time.perf_counter() - began)
    top = sorted(shares.items(), key=lambda kv: -kv[1])[:4]
    listed = ", ".join(f"{k} {v:.2f}" for k, v in top)
    return (
        f"{len(trained.features)} features, {len(trained.X_holdout)} holdout rows: "
        f"{statistics.median(times):.2f} s (median of 3); top shares {listed}"
    )


def main() -> None:
    bikes = bike_sharing().filter(pl.col("yr") == 0)
    spec = TrainingConfig(
        target="cnt", time_column="dteday", exclude=("instant", "casual", "registered")
    )
    print(f"bike demand model (ridge, grid search): {measure(bikes, spec)}", flush=True)
    hours = busy_hours(end=dt.date(2011, 3, 31))
    spec = TrainingConfig(
        entry_point="driftloop.model.busy:train",
        target="busy",
        time_column="dteday",
        metric="accuracy",
        holdout=0.25,
    )
    print(f"busy-hour classifier (logistic): {measure(hours, spec)}", flush=True)


if __name__ == "__main__":
    main()
