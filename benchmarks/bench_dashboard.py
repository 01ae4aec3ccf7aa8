"""Dashboard speed and size at 1,000 windows x 100 features.

Fills a fresh SQLite warehouse (or ``--postgres URL``, an empty database) with a history of
weekly windows and their run records, serves the dashboard with ``driftloop ui``'s app on a
real uvicorn server, and fetches each page ``--repeats`` times. Prints the p95 and median time
to the last byte per page and the page's size. Targets: p95 <= 300 ms, page <= 1 MB.

    python benchmarks/bench_dashboard.py [--windows 1000] [--features 100] [--repeats 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from driftloop.config import load_config
from driftloop.demo import demo_config
from driftloop.history.store import HistoryStore
from driftloop.pipeline.records import RunStore
from driftloop.service.dashboard import dashboard_app

TOKEN = "bench-token"
FIRST = dt.date(2005, 1, 3)


def report(rng: random.Random, features: int) -> dict[str, Any]:
    columns = []
    for i in range(features):
        p = rng.random() ** 3
        columns.append(
            {"name": f"feature_{i:03d}", "kind": "numerical", "method": "ks",
             "statistic": round(rng.random(), 4), "p_value": p, "threshold": 0.05,
             "drifted": p < 0.05, "n_reference": 5000, "n_current": 700}
        )  # fmt: skip
    share = sum(c["drifted"] for c in columns) / features
    return {"dataset_drift": share >= 0.5, "drift_share": 0.5, "share_drifted": share,
            "columns": columns, "degradation": []}  # fmt: skip


def fill(url: str, windows: int, features: int) -> str:
    """Write the history and run records; returns one run id (for the run page)."""
    rng = random.Random(7)
    history, runs = HistoryStore(url), RunStore(url)
    steps = ["fetch_reference", "fetch_current", "detect", "concept"]
    run_id = ""
    for w in range(windows):
        start = FIRST + dt.timedelta(days=7 * w)
        end = start + dt.timedelta(days=6)
        run_id = runs.create_run("bench", "backfill", start, end, steps)
        for step in steps:
            runs.finish_step(run_id, step, "done", 0.1, {"rows": 700})
        verdict = {"dataset_drift": False, "share_drifted": 0.1}
        outcome = f"v{w} promoted to production (better)" if w % 50 == 0 else None
        runs.finish_run(run_id, "succeeded", verdict=verdict, model_outcome=outcome)
        history.record("bench", run_id, (start, end), report(rng, features))
    return run_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(base: str, path: str, repeats: int) -> tuple[float, float, int, int]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    times, size, status = [], 0, 0
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        client.get(path)  # warm-up (first queries, template compilation)
        for _ in range(repeats):
            started = time.perf_counter()
            answer = client.get(path)
            times.append(time.perf_counter() - started)
            size, status = len(answer.content), answer.status_code
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    return p95, statistics.median(times), size, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=1000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL (default: SQLite)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    url = args.postgres or f"sqlite:///{folder / 'warehouse.db'}"
    raw = demo_config(folder)
    raw["pipeline"] = "bench"
    raw["stores"]["warehouse"] = url
    raw["dashboard"] = {"token": TOKEN}
    config = load_config(raw)
    started = time.perf_counter()
    run_id = fill(url, args.windows, args.features)
    print(f"filled {args.windows} windows x {args.features} features in "
          f"{time.perf_counter() - started:.1f} s ({url.split(':')[0]})")  # fmt: skip
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(dashboard_app({"bench": config}), port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    middle = FIRST + dt.timedelta(days=7 * (args.windows // 2))
    weeks = f"from={middle}&to={middle + dt.timedelta(days=70)}"
    pages = {
        "overview": "/ui/",
        "pipeline (latest windows)": "/ui/pipelines/bench",
        "pipeline (a range)": f"/ui/pipelines/bench?{weeks}",
        "pipeline (runs filtered)": "/ui/pipelines/bench?status=succeeded&limit=200",
        "feature": "/ui/pipelines/bench/features/feature_042",
        "run": f"/ui/runs/{run_id}",
        "api: 10 weeks": f"/api/pipelines/bench/history?{weeks}",
    }
    print(f"{'page':<28} {'p95 ms':>8} {'median ms':>10} {'size KB':>9}  status")
    failed = False
    for name, path in pages.items():
        p95, median, size, status = measure(f"http://127.0.0.1:{port}", path, args.repeats)
        slow_or_big = p95 > 0.3 or size > 1_000_000
        failed |= slow_or_big or status != 200
        mark = "  over target" if slow_or_big else ""
        figures = f"{p95 * 1000:>8.0f} {median * 1000:>10.0f} {size / 1000:>9.0f}"
        print(f"{name:<28} {figures}  {status}{mark}")
    server.should_exit = True
    print("targets: p95 <= 300 ms, page <= 1 MB:", "NOT MET" if failed else "met")


if __name__ == "__main__":
    main()
