"""Retrain + register + publish on the demo data: wall time per stage (target <= 10 s in all).

Runs in a fresh process with a fresh MLflow store (sqlite) and a local publish folder, as the
demo does: the first retrain pays for MLflow's import and database creation; the second shows
the steady state.

    python benchmarks/bench_retrain.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def main() -> None:
    started = time.perf_counter()
    import polars as pl

    from driftloop.actions.publish import LocalPublisher
    from driftloop.config import TrainingConfig
    from driftloop.data.synthetic import bike_sharing
    from driftloop.model.lifecycle import retrain
    from driftloop.model.registry import Registry

    imported = time.perf_counter()
    spec = TrainingConfig(
        target="cnt",
        time_column="dteday",
        exclude=("instant", "casual", "registered"),
        slice_columns=("season", "weathersit"),
    )
    data = bike_sharing()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        registry = Registry(f"sqlite:///{root / 'mlflow.db'}", str(root / "artifacts"))
        opened = time.perf_counter()
        publisher = LocalPublisher(root / "published")
        first = retrain(
            data.filter(pl.col("yr") == 0), spec, registry, name="bikes", publisher=publisher
        )
        done_first = time.perf_counter()
        second = retrain(data, spec, registry, name="bikes", publisher=publisher, margin=-10)
        done_second = time.perf_counter()
    print("retrain + register + publish, synthetic bike-sharing data (365 and 731 days)")
    print(f"  imports (driftloop, sklearn, polars)   {imported - started:.2f} s")
    print(f"  open MLflow store (import + create db)  {opened - imported:.2f} s")
    print(f"  first version  (promoted={first.promoted})   {done_first - opened:.2f} s")
    print(f"  second version (promoted={second.promoted})  {done_second - done_first:.2f} s")
    print(f"  total wall, cold start to first published version: {done_first - started:.2f} s")


if __name__ == "__main__":
    main()
