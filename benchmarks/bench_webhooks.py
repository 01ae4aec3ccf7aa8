"""Webhook load on ``driftloop serve`` while a run is in progress: requests/second and latency.

Starts ``driftloop serve`` on a free loopback port (embedded defaults: SQLite warehouse, MLflow on
sqlite), starts a run whose retrain step is held open, then sends a bounded number of signed
webhook requests from several client threads (keep-alive connections) and reports throughput and
p50/p99 latency. Every request is authenticated (HMAC-SHA256) and coalesces into one follow-up run.

    python benchmarks/bench_webhooks.py [--requests 4000] [--clients 16]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml

SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(root: Path) -> tuple[Path, Path, Path]:
    from driftloop.data.sources import filter_window
    from driftloop.data.synthetic import bike_sharing
    from driftloop.data.warehouse import Warehouse
    from driftloop.demo import demo_config, month

    (root / "data").mkdir(parents=True)
    data = bike_sharing()
    data.write_csv(root / "data" / "day.csv")
    flag, started = root / "hold", root / "started"
    script = root / "held.py"
    script.write_text(
        "import time\nfrom pathlib import Path\nfrom driftloop.model.bike import train as bike\n"
        f"FLAG, STARTED = Path({str(flag)!r}), Path({str(started)!r})\n"
        "def train(X, y, params):\n    STARTED.write_text('1')\n"
        "    while FLAG.exists():\n        time.sleep(0.05)\n    return bike(X, y, params)\n"
    )
    config = demo_config(root)
    config["training"]["entry_point"] = f"{script}:train"
    config["webhook"] = {"hmac_secret": SECRET}
    config["alerts"] = {"console": False}
    Warehouse(config["stores"]["warehouse"]).seed(
        filter_window(data, "dteday", *month(2011, 1)), table="reference"
    )
    path = root / "driftloop.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, flag, started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    from driftloop.service.signatures import signed_headers

    with tempfile.TemporaryDirectory() as tmp:
        path, flag, started = setup(Path(tmp))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (Path(tmp) / "serve.log").open("wb")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "driftloop",
                "serve",
                "--config",
                str(path),
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(300):
                try:
                    httpx.get(url + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            flag.write_text("1")
            body = json.dumps({"start": "2011-03-01", "end": "2011-03-31"}).encode()
            headers = {
                **signed_headers(SECRET, body),
                "Content-Type": "application/json",
            }
            first = httpx.post(
                url + "/hooks/bike-sharing", content=body, headers=headers, timeout=10
            )
            assert first.json()["action"] == "started", first.text
            while not started.exists():
                time.sleep(0.05)
            per_client = args.requests // args.clients
            latencies: list[float] = []
            statuses: dict[int, int] = {}
            lock = threading.Lock()

            def client(_: int) -> None:
                mine, codes = [], {}
                with httpx.Client(base_url=url, timeout=10) as c:
                    for _ in range(per_client):
                        t0 = time.perf_counter()
                        r = c.post("/hooks/bike-sharing", content=body, headers=headers)
                        mine.append(time.perf_counter() - t0)
                        codes[r.status_code] = codes.get(r.status_code, 0) + 1
                with lock:
                    latencies.extend(mine)
                    for k, v in codes.items():
                        statuses[k] = statuses.get(k, 0) + v

            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(client, range(args.clients)))
            wall = time.perf_counter() - t0
            health = httpx.get(url + "/healthz", timeout=10).json()["pipelines"]["bike-sharing"]
            flag.unlink()
        finally:
            server.terminate()
            server.wait(60)
        latencies.sort()
        n = len(latencies)
        print(f"webhook load: {n} signed requests from {args.clients} clients during a run")
        print(f"  throughput {n / wall:.0f} requests/s over {wall:.2f} s; statuses {statuses}")
        print(
            f"  latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
            f"p99 {latencies[int(0.99 * (n - 1))] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
        )
        print(f"  coalesced into one follow-up run: {health['follow_up_triggers']} triggers")


if __name__ == "__main__":
    main()
