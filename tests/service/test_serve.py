"""``driftloop serve`` as a real subprocess on a free port, with a PostgreSQL warehouse: a short
cron, authenticated webhooks, 50 concurrent triggers during a run, SIGTERM mid-run, /metrics."""

from __future__ import annotations

import datetime as dt
import json
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftloop.data.warehouse import Warehouse
from driftloop.pipeline.records import RunStore
from driftloop.service.app import sign
from tests.pipeline.conftest import COMPLETED, held_trainer, write_config

pytestmark = pytest.mark.postgres

TOKEN, SECRET = "hook-token-123", "hmac-secret-456"
MARCH = {"start": "2011-03-01", "end": "2011-03-31"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, config_path: Path, port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        argv = [
            sys.executable,
            "-m",
            "driftloop",
            "serve",
            "--config",
            str(config_path),
            "--port",
            str(port),
            "--drain-seconds",
            "1",
        ]
        self.log = log
        self.proc = subprocess.Popen(argv, stdout=log.open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/healthz", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                assert self.proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)

    def hook(
        self,
        body: dict,
        *,
        token: str | None = TOKEN,
        signature: str | None = None,
        pipeline: str = "bike-sharing",
    ) -> httpx.Response:
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if signature:
            headers["X-Driftloop-Signature"] = signature
        return httpx.post(f"{self.url}/hooks/{pipeline}", content=raw, headers=headers, timeout=10)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


def wait_for(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def served(make_pipeline, pg_databases, tmp_path: Path):
    entry_point, flag, started = held_trainer(tmp_path)
    warehouse = pg_databases()
    fire_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=15)
    config = make_pipeline(
        warehouse=warehouse,
        training__entry_point=entry_point,
        webhook={"token": TOKEN, "hmac_secret": SECRET, "max_body_bytes": 2048},
        schedule={
            "cron": f"{fire_at.second} {fire_at.minute} * * * *",
            "timezone": "Etc/UTC",
            "window_days": 7,
        },
    )
    path = write_config(config, tmp_path / "driftloop.yaml")
    return {
        "config": config,
        "path": path,
        "flag": flag,
        "started": started,
        "warehouse": warehouse,
        "log": tmp_path / "serve.log",
    }


def runs(warehouse: str) -> list[dict]:
    return RunStore(warehouse).runs("bike-sharing")


def test_serve_webhooks_cron_coalescing_metrics_and_sigterm(served) -> None:
    server = Server(served["path"], free_port(), served["log"])
    warehouse = served["warehouse"]
    try:
        # authentication and limits
        assert server.hook(MARCH, token=None).status_code == 401
        assert server.hook(MARCH, token="wrong").status_code == 401
        assert server.hook(MARCH, token=None, signature="sha256=" + "0" * 64).status_code == 401
        assert server.hook({"pad": "x" * 5000}).status_code == 413
        missing = server.hook(MARCH, pipeline="nope")
        assert missing.status_code == 404 and missing.json()["pipelines"] == ["bike-sharing"]
        resolved = server.hook({"status": "resolved", "alerts": [{"status": "resolved"}]})
        assert resolved.status_code == 200 and resolved.json()["action"] == "ignored"

        # the cron job fired once (its window, the last 7 days, has no rows: an empty run)
        wait_for(
            lambda: any(
                r["trigger"] == "cron" and r["status"] != "running" for r in runs(warehouse)
            ),
            timeout=45,
            what="the cron run",
        )
        cron = [r for r in runs(warehouse) if r["trigger"] == "cron"]
        assert len(cron) == 1 and cron[0]["status"] == "empty"

        # a run held in its retrain step; 50 concurrent triggers make exactly one follow-up
        served["flag"].write_text("1")
        first = server.hook(MARCH)
        assert first.status_code == 202 and first.json()["action"] == "started"
        wait_for(served["started"].exists, what="the retrain step")
        body = json.dumps(MARCH).encode()
        grafana = {
            "receiver": "driftloop",
            "status": "firing",
            "alerts": [{"status": "firing", "labels": {"alertname": "DriftSuspected"}}],
            **MARCH,
        }

        def signed(i: int) -> httpx.Response:
            payload = MARCH if i % 2 else grafana
            raw = json.dumps(payload).encode()
            return httpx.post(
                f"{server.url}/hooks/bike-sharing",
                content=raw,
                timeout=10,
                headers={"X-Driftloop-Signature": sign(SECRET, raw)},
            )

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(signed, range(50)))
        assert {a.status_code for a in answers} == {202}
        joined = [a.json() for a in answers]
        assert sorted({j["action"] for j in joined}) == ["coalesced", "queued"]
        assert sum(j["action"] == "queued" for j in joined) == 1
        follow_up = {j["run_id"] for j in joined}
        assert len(follow_up) == 1 and all(j["running"] == first.json()["run_id"] for j in joined)
        served["flag"].unlink()
        (follow_up_id,) = follow_up
        wait_for(
            lambda: any(
                r["run_id"] == follow_up_id and r["status"] == "succeeded" for r in runs(warehouse)
            ),
            what="the follow-up run",
        )
        hooked = [r for r in runs(warehouse) if r["trigger"] == "webhook"]
        assert len(hooked) == 2 and {r["status"] for r in hooked} == {"succeeded"}
        del body

        # /runs and /metrics agree with the run's own report
        record = httpx.get(f"{server.url}/runs/{follow_up_id}", timeout=10).json()
        report = record["report"]
        families = {
            f.name: f
            for f in text_string_to_metric_families(
                httpx.get(server.url + "/metrics", timeout=10).text
            )
        }
        stats = {
            s.labels["feature"]: s.value
            for s in families["driftloop_feature_drift_statistic"].samples
        }
        for column in report["columns"]:
            assert stats[column["name"]] == pytest.approx(column["statistic"])
        assert families["driftloop_dataset_drift"].samples[0].value == 1.0
        outcomes = {
            (s.labels["status"]): s.value
            for s in families["driftloop_runs"].samples
            if s.name == "driftloop_runs_total"
        }
        assert outcomes["succeeded"] == 2 and outcomes["empty"] == 1
        hooks = {
            s.labels["outcome"]: s.value
            for s in families["driftloop_webhook_requests"].samples
            if s.name.endswith("_total")
        }
        assert (
            hooks["unauthorized"] == 3
            and hooks["too_large"] == 1
            and hooks["queued"] == 1
            and hooks["coalesced"] == 49
        )
        assert (
            families["driftloop_last_success_timestamp_seconds"].samples[0].value
            > time.time() - 120
        )

        # SIGTERM in the middle of a run: the step finishes, the run is left resumable
        served["flag"].write_text("1")
        served["started"].unlink()
        third = server.hook({"start": "2011-04-01", "end": "2011-04-30"}).json()["run_id"]
        wait_for(served["started"].exists, what="the third run's retrain")
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        served["flag"].unlink()
        assert server.proc.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM when done
        assert "Application shutdown complete." in served["log"].read_text()
        interrupted = RunStore(warehouse).run(third)
        assert interrupted["status"] == "interrupted"
        steps = {s["step"]: s["status"] for s in interrupted["steps"]}
        assert steps["retrain"] == "done" and steps["publish"] == "pending"
    finally:
        if server.proc.poll() is None:
            server.stop()

    restarted = Server(served["path"], free_port(), served["log"])
    try:
        wait_for(
            lambda: RunStore(warehouse).run(third)["status"] == "succeeded", what="the resumed run"
        )
        steps = {s["step"]: s["status"] for s in RunStore(warehouse).run(third)["steps"]}
        assert steps == COMPLETED
        assert (
            Warehouse(warehouse).count("current") == 31 + 30
        )  # March (twice) and April, once each
    finally:
        assert restarted.stop() in (0, -signal.SIGTERM)
