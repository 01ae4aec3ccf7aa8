"""No accepted trigger lost: 500 signed webhook triggers to a real ``driftloop serve`` while
another process holds the pipeline's lock, with serve SIGKILLed and restarted twice meanwhile.

The pipeline is small (PostgreSQL warehouse on the local server, a database of its own dropped
at the end; no retrain; console alerts). Each trigger asks for its own one-day window (12 rows a
day). A second process takes the pipeline's lock before the first trigger and keeps it until
half the triggers are answered; serve is killed (SIGKILL) at a third and at four fifths of the
triggers and started again at once. Clients retry a request that got no answer (the server was
down) until it gets one, as an alert manager does. When every trigger's run has ended (or the
deadline passed) it prints:

- accepted: triggers answered 202 (each answer carries a run id);
- recorded runs: accepted run ids with a finished run record of the requested window;
- lost: accepted run ids with no finished run record;
- duplicated: extra finished runs of a requested window among the accepted run ids, plus
  windows whose rows were appended more than once;
- unresolvable run ids: accepted run ids ``GET /runs/{id}`` does not answer with 200;
- for information: requests that got no answer (retried), and runs of triggers committed
  before a kill whose caller never got the answer (it retried; that window then ran twice,
  each run once).

Target: 0 lost, 0 duplicated, 0 unresolvable.

    python benchmarks/bench_trigger_faults.py [--triggers 500] [--clients 8]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import yaml

SECRET = "bench-fault-secret"
PIPELINE = "bike-sharing"
ADMIN = "postgresql://root@127.0.0.1:5432/postgres"
COPIES = 12  # rows per day
HOLDER = """
import sys, time
from pathlib import Path
from driftloop.pipeline.records import RunStore
store = RunStore(sys.argv[1])
store.acquire(sys.argv[2], "20110101T000000-10c4ed00")
print("held", flush=True)
while Path(sys.argv[3]).exists():
    store.heartbeat(sys.argv[2], "20110101T000000-10c4ed00")
    time.sleep(0.2)
store.release(sys.argv[2], "20110101T000000-10c4ed00")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(root: Path, warehouse: str) -> Path:
    """The pipeline's config, its data (12 rows a day) and its reference (January 2011)."""
    import polars as pl

    from driftloop.data.sources import filter_window
    from driftloop.data.synthetic import bike_sharing
    from driftloop.data.warehouse import Warehouse
    from driftloop.demo import demo_config, month

    (root / "data").mkdir(parents=True)
    data = pl.concat([bike_sharing(seed=seed) for seed in range(COPIES)])
    data.write_csv(root / "data" / "day.csv")
    config = demo_config(root)
    config["stores"]["warehouse"] = warehouse
    config["reference"] = {"url": warehouse, "table": "reference"}
    config["webhook"] = {"hmac_secret": SECRET}
    config["on_drift"]["retrain"] = False
    config["alerts"] = {"console": True, "cooldown_hours": 0}
    config.pop("schedule")
    Warehouse(warehouse).seed(filter_window(data, "dteday", *month(2011, 1)), table="reference")
    path = root / "driftloop.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class Serve:
    """``driftloop serve`` on one port, started again after each kill."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log, self.port = config, log, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "driftloop", "serve", "--config", str(self.config)]
        self.proc = subprocess.Popen(
            [*argv, "--port", str(self.port)],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit(f"serve did not start; see {self.log}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(120)


class Storm:
    """The clients: each window posted until it is answered; the answers kept."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: dict[str, dict[str, Any]] = {}  # window start -> the 202's body
        self.cut = 0  # requests that got no answer (the server was killed or down)
        self.lock = threading.Lock()

    def post(self, day: dt.date) -> None:
        from driftloop.service.signatures import signed_headers

        body = json.dumps({"start": day.isoformat(), "end": day.isoformat()}).encode()
        while True:
            try:
                answer = httpx.post(
                    f"{self.url}/hooks/{PIPELINE}",
                    content=body,
                    headers=signed_headers(SECRET, body),
                    timeout=30,
                )
            except httpx.HTTPError:
                with self.lock:
                    self.cut += 1
                time.sleep(0.2)
                continue
            if answer.status_code == 202:
                with self.lock:
                    self.answers[day.isoformat()] = answer.json()
                return
            time.sleep(0.2)  # 503 while the database is busy, 429 when full: retry later

    def answered(self) -> int:
        with self.lock:
            return len(self.answers)


def wait_until(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def faults(serve: Serve, storm: Storm, total: int, holder_flag: Path) -> None:
    """Kill and restart serve at a third and at four fifths; free the lock at half."""
    for share, release in ((1 / 3, False), (1 / 2, True), (4 / 5, False)):
        wait_until(lambda share=share: storm.answered() >= share * total, 600)
        if release:
            holder_flag.unlink()
            continue
        serve.kill()
        serve.start()


def count(warehouse: str, accepted: dict[str, dict[str, Any]], url: str) -> dict[str, Any]:
    from driftloop.pipeline.records import RunStore

    records = {r["run_id"]: r for r in RunStore(warehouse).runs(PIPELINE, limit=100_000)}
    ended = {i: r for i, r in records.items() if r["status"] in ("succeeded", "failed", "empty")}
    ids = {day: a["run_id"] for day, a in accepted.items()}
    recorded = {d for d, i in ids.items() if i in ended and ended[i]["window_start"] == d}
    per_window = Counter(ended[i]["window_start"] for i in ids.values() if i in ended)
    with psycopg.connect(warehouse) as conn:
        rows = dict(
            conn.execute("SELECT dteday::text, count(*) FROM current GROUP BY 1").fetchall()
        )
    unresolvable = sum(
        httpx.get(f"{url}/runs/{i}", timeout=30).status_code != 200 for i in ids.values()
    )
    unacknowledged = set(ended) - set(ids.values())
    return {
        "accepted": len(accepted),
        "recorded runs": len(recorded),
        "lost": len(ids) - len(recorded),
        "duplicated": sum(n - 1 for n in per_window.values() if n > 1)
        + sum(1 for n in rows.values() if n > COPIES),
        "unresolvable run ids": unresolvable,
        "committed, unanswered, retried": len(unacknowledged),
    }


def main(triggers: int = 500, clients: int = 8) -> dict[str, Any]:
    database = f"driftloop_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    warehouse = f"postgresql://root@127.0.0.1:5432/{database}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return _storm(Path(tmp), warehouse, triggers, clients)
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _storm(root: Path, warehouse: str, triggers: int, clients: int) -> dict[str, Any]:
    from driftloop.pipeline.records import RunStore

    config = setup(root, warehouse)
    flag = root / "holding"
    flag.write_text("1")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, warehouse, PIPELINE, str(flag)], stdout=subprocess.PIPE
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
    serve = Serve(config, root / "serve.log")
    serve.start()
    storm = Storm(serve.url)
    days = [dt.date(2011, 2, 1) + dt.timedelta(days=i) for i in range(triggers)]
    started = time.perf_counter()
    try:
        killer = threading.Thread(target=faults, args=(serve, storm, triggers, flag))
        killer.start()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(storm.post, days))
        killer.join()
        posted = time.perf_counter() - started
        store = RunStore(warehouse)
        ids = {a["run_id"] for a in storm.answers.values()}

        def settled() -> bool:
            ended = {
                r["run_id"]
                for r in store.runs(PIPELINE, limit=100_000)
                if r["status"] in ("succeeded", "failed", "empty")
            }
            return ids <= ended

        drained = wait_until(settled, 3600)
        figures = count(warehouse, storm.answers, serve.url)
        statuses = Counter(r["status"] for r in store.runs(PIPELINE, limit=100_000))
        log = (root / "serve.log").read_text()
        return {
            **figures,
            "requests without an answer (server down), retried": storm.cut,
            "runs by status": dict(statuses),
            "kills": log.count("Started server process") - 1,
            "seconds until every trigger was answered": round(posted, 1),
            "seconds until every run ended": round(time.perf_counter() - started, 1),
            "every run ended before the deadline": drained,
            "tracebacks in serve's log": log.count("Traceback"),
        }
    finally:
        serve.stop()
        if flag.exists():
            flag.unlink()
        holder.wait(30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triggers", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    result = main(args.triggers, args.clients)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
