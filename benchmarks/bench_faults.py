"""Fault injection: SIGKILL `driftloop run` at random points, recover, and count what broke.

Each round starts `driftloop run` for a month of the demo pipeline (SQLite warehouse, MLflow on
SQLite, local publishing, alerts to a local Slack-compatible receiver), kills it with SIGKILL after
a random delay (fetch, detect, append, retrain after registration, publish, alert delivery —
wherever it is), then recovers as a person would: `--resume RUN` or a plain re-run of the window,
chosen at random. At the end every window is run once more, and the script counts:

- duplicate warehouse rows (a day stored twice), and windows missing rows;
- model versions per pipeline run (more than one is a duplicate) and versions left undecided;
- alerts received twice for one run, and alerts lost (a run that alerted but nothing arrived and the
  outbox does not say `unknown`);
- run records left `running`.

    python benchmarks/bench_faults.py [--kills 20] [--seed 0] [--months 11]

The test suite runs a short form (tests/pipeline/test_faults.py). Every count should be 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DRIFTLOOP = [sys.executable, "-m", "driftloop"]


class Receiver:
    """A Slack-compatible webhook receiver counting what it got."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T1/B1/x"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def setup(root: Path, slack_url: str) -> Path:
    import yaml

    from driftloop.data.sources import filter_window
    from driftloop.data.synthetic import bike_sharing
    from driftloop.data.warehouse import Warehouse
    from driftloop.demo import demo_config, month

    (root / "data").mkdir(parents=True)
    bikes = bike_sharing()
    bikes.write_csv(root / "data" / "day.csv")
    raw = demo_config(root)
    raw["alerts"] = {"console": False, "slack": {"webhook_url": slack_url}, "cooldown_hours": 0}
    path = root / "driftloop.yaml"
    path.write_text(yaml.safe_dump(raw))
    reference = filter_window(bikes, "dteday", *month(2011, 1))
    Warehouse(raw["stores"]["warehouse"]).seed(reference, table="reference", if_exists="replace")
    return path


MONTHS = 11  # February to December 2011


def windows(months: int = MONTHS) -> list[tuple[str, str]]:
    from driftloop.demo import month

    return [(str(month(2011, m)[0]), str(month(2011, m)[1])) for m in range(2, 2 + months)]


def run(config: Path, window: tuple[str, str], *extra: str) -> subprocess.Popen[bytes]:
    args = [*DRIFTLOOP, "run", "--config", str(config), "--start", window[0], "--end", window[1]]
    return subprocess.Popen(
        [*args, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ
    )


def latest_unfinished(config: Path, window: tuple[str, str]) -> str | None:
    from driftloop.config import load_config
    from driftloop.pipeline.records import RunStore

    cfg = load_config(config)
    for r in RunStore(cfg.stores.warehouse.get_secret_value()).runs(cfg.pipeline, 50):
        if str(r["window_start"]) == window[0] and r["status"] in ("running", "interrupted"):
            return str(r["run_id"])
    return None


def inject(config: Path, kills: int, rng: random.Random, months: int) -> Counter[str]:
    actions: Counter[str] = Counter()
    spans = windows(months)
    for i in range(kills):
        window = spans[i % len(spans)]
        proc = run(config, window)
        time.sleep(rng.uniform(0.3, 6.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            actions["killed"] += 1
        proc.wait()
        unfinished = latest_unfinished(config, window)
        if unfinished is not None and rng.random() < 0.5:
            subprocess.run(
                [*DRIFTLOOP, "run", "--config", str(config), "--resume", unfinished],
                capture_output=True,
            )
            actions["resumed"] += 1
        else:
            run(config, window).wait()
            actions["re-run"] += 1
    for window in spans:  # finish every window once more
        run(config, window).wait()
    return actions


def count(config: Path, receiver: Receiver, months: int) -> dict[str, int]:
    import polars as pl
    import sqlalchemy as sa

    from driftloop.actions.outbox import OUTBOX
    from driftloop.config import load_config
    from driftloop.data.warehouse import Warehouse
    from driftloop.model.registry import Registry
    from driftloop.pipeline.records import RunStore

    cfg = load_config(config)
    url = cfg.stores.warehouse.get_secret_value()
    current = Warehouse(url).read("current", pipeline=cfg.pipeline)
    days = current["dteday"].cast(pl.String)
    expected = sum(
        (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1
        for start, end in windows(months)
    )
    registry = Registry(cfg.stores.mlflow.get_secret_value())
    tags = [v for v in registry.client.search_model_versions("name = 'bike-demand'")]
    per_run = Counter(v.tags.get("driftloop.run_id") for v in tags)
    runs = RunStore(url).runs(cfg.pipeline, 500)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        outbox = [dict(r) for r in conn.execute(sa.select(OUTBOX)).mappings()]
    texts = Counter(  # alerts per pipeline run, from the run id each message names
        found.group(1)
        for m in receiver.received
        if (found := re.search(r"run `([^`]+)`", str(m.get("text", ""))))
    )
    delivered_runs = {o["run_id"] for o in outbox if o["status"] == "sent"}
    unknown_runs = {o["run_id"] for o in outbox if o["status"] == "unknown"}
    lost = [o for o in outbox if o["status"] == "pending" and o["run_id"] not in delivered_runs]
    return {
        "duplicate_rows": days.len() - days.n_unique(),
        "missing_rows": max(expected - days.n_unique(), 0),
        "duplicate_versions": sum(n - 1 for n in per_run.values() if n > 1),
        "undecided_versions": sum("driftloop.status" not in v.tags for v in tags),
        "duplicate_alerts": sum(n - 1 for n in texts.values() if n > 1),
        "lost_alerts": len(lost),
        "unknown_alerts": len(unknown_runs),
        "runs_left_running": sum(r["status"] == "running" for r in runs),
        "runs": len(runs),
        "versions": len(tags),
        "alerts_received": len(receiver.received),
    }


def main(kills: int = 20, seed: int = 0, months: int = MONTHS) -> dict[str, Any]:
    rng = random.Random(seed)
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        config = setup(Path(tmp), receiver.url)
        started = time.perf_counter()
        actions = inject(config, kills, rng, months)
        counts = count(config, receiver, months)
    result = {"actions": dict(actions), **counts, "seconds": round(time.perf_counter() - started)}
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--months", type=int, default=MONTHS, help="windows, from Feb 2011")
    args = parser.parse_args()
    outcome = main(args.kills, args.seed, args.months)
    print(json.dumps(outcome, indent=2))
    out = Path(__file__).parent / "results" / "faults.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(outcome, indent=2) + "\n")
