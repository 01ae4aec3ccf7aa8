"""``driftloop serve`` as a real subprocess on a free port, with a PostgreSQL warehouse: a short
cron, authenticated webhooks, 50 concurrent triggers during a run, SIGTERM mid-run, /metrics."""

from __future__ import annotations

import datetime as dt
import json
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftloop.data.warehouse import Warehouse
from driftloop.pipeline.records import RunStore
from driftloop.service.app import sign, signed_headers
from tests.pipeline.conftest import COMPLETED, held_trainer, write_config
from tests.service.serving import SECRET, TOKEN, Server, free_port, wait_for

pytestmark = pytest.mark.postgres

MARCH = {"start": "2011-03-01", "end": "2011-03-31"}


def _raw_post(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=10)
    conn.sendall(
        b"POST /hooks/bike-sharing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    return conn


def _slow_body(url: str) -> int:
    with _raw_post(url) as conn:
        answer = conn.recv(200).decode()  # nothing more is sent: the server gives up first
    return int(answer.split()[1])


def _hang_up(url: str) -> None:
    _raw_post(url).close()
    time.sleep(0.5)


@pytest.fixture
def served(make_pipeline, pg_databases, tmp_path: Path):
    entry_point, flag, started = held_trainer(tmp_path)
    warehouse = pg_databases()
    fire_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=15)
    config = make_pipeline(
        warehouse=warehouse,
        training__entry_point=entry_point,
        webhook={
            "token": TOKEN,
            "hmac_secret": SECRET,
            "max_body_bytes": 2048,
            "body_timeout_seconds": 1,
        },
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
        forged = {"X-Driftloop-Timestamp": str(time.time()), "X-Driftloop-Signature": "sha256=0"}
        assert server.hook(MARCH, token=None, signature=forged).status_code == 401
        # signed requests: timestamp inside the signature, a tolerance window, accepted once
        resolved_raw = json.dumps({"status": "resolved", "alerts": [{"status": "resolved"}]})
        raw = resolved_raw.encode()
        headers = signed_headers(SECRET, raw)
        assert server.hook({}, token=None, raw=raw, signature=headers).status_code == 200
        replayed = server.hook({}, token=None, raw=raw, signature=headers)
        assert replayed.status_code == 401 and "replayed" in replayed.json()["error"]
        stale = signed_headers(SECRET, raw, now=time.time() - 3600)
        late = server.hook({}, token=None, raw=raw, signature=stale)
        assert late.status_code == 401 and "tolerance" in late.json()["error"]
        tampered = server.hook(
            {}, token=None, raw=raw + b" ", signature=signed_headers(SECRET, raw)
        )
        assert tampered.status_code == 401 and tampered.json()["error"] == "invalid signature"
        body_only = {"X-Driftloop-Signature": sign(SECRET, raw, "")[: len("sha256=")] + "0" * 64}
        assert server.hook({}, token=None, raw=raw, signature=body_only).status_code == 401
        assert server.hook({"pad": "x" * 5000}).status_code == 413
        missing = server.hook(MARCH, pipeline="nope")
        assert missing.status_code == 404 and missing.json() == {"error": "unknown pipeline"}
        resolved = server.hook({"status": "resolved", "alerts": [{"status": "resolved"}]})
        assert resolved.status_code == 200 and resolved.json()["action"] == "ignored"
        # a body that trickles in is cut off; a client that hangs up leaves no traceback
        assert _slow_body(server.url) == 408
        _hang_up(server.url)
        assert "Traceback" not in served["log"].read_text()

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
        health = httpx.get(f"{server.url}/healthz", timeout=10).json()["pipelines"]
        upcoming = dt.datetime.fromisoformat(health["bike-sharing"]["next_run"])
        assert upcoming > dt.datetime.now(
            dt.UTC
        )  # the next scheduled run, after the one that fired

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
                headers=signed_headers(SECRET, raw),
            )

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(signed, range(50)))
        assert {a.status_code for a in answers} == {202}
        joined = [a.json() for a in answers]
        assert sorted({j["action"] for j in joined}) == ["coalesced", "queued"]
        assert sum(j["action"] == "queued" for j in joined) == 1
        follow_up = {j["run_id"] for j in joined}
        assert len(follow_up) == 1 and all(j["running"] == first.json()["run_id"] for j in joined)
        assert {tuple(j["window"]) for j in joined} == {("2011-03-01", "2011-03-31")}
        # a different window is a run of its own, queued after March: never coalesced away
        february = server.hook({"start": "2011-02-01", "end": "2011-02-28"})  # February, no drift
        assert february.status_code == 202 and february.json()["action"] == "queued"
        assert february.json()["window"] == ["2011-02-01", "2011-02-28"]
        assert february.json()["run_id"] not in follow_up
        served["flag"].unlink()
        (follow_up_id,) = follow_up
        for run_id in (follow_up_id, february.json()["run_id"]):
            wait_for(
                lambda run_id=run_id: any(
                    r["run_id"] == run_id and r["status"] == "succeeded" for r in runs(warehouse)
                ),
                what=f"the follow-up run {run_id}",
            )
        hooked = {r["run_id"]: r for r in runs(warehouse) if r["trigger"] == "webhook"}
        assert len(hooked) == 3 and {r["status"] for r in hooked.values()} == {"succeeded"}
        assert str(hooked[february.json()["run_id"]]["window_start"]) == "2011-02-01"
        assert str(hooked[follow_up_id]["window_start"]) == "2011-03-01"
        del body

        # /runs and /metrics agree with the run's own report; a bad limit is a 400, not a 500
        for bad in ("abc", "-1", "0", "99999999999999999999"):
            answer = httpx.get(f"{server.url}/runs", params={"limit": bad}, timeout=10)
            assert answer.status_code == 400 and "limit must be" in answer.json()["error"]
        assert len(httpx.get(f"{server.url}/runs?limit=1", timeout=10).json()) == 1
        last = february.json()["run_id"]  # the gauges hold the last finished run
        record = httpx.get(f"{server.url}/runs/{last}", timeout=10).json()
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
        assert families["driftloop_dataset_drift"].samples[0].value == float(
            report["dataset_drift"]
        )
        outcomes = {
            (s.labels["status"]): s.value
            for s in families["driftloop_runs"].samples
            if s.name == "driftloop_runs_total"
        }
        assert outcomes["succeeded"] == 3 and outcomes["empty"] == 1
        hooks = {
            s.labels["outcome"]: s.value
            for s in families["driftloop_webhook_requests"].samples
            if s.name.endswith("_total")
        }
        assert (
            hooks["unauthorized"] == 7  # no token, wrong token, forged, replayed, stale, ...
            and hooks["too_large"] == 1
            and hooks["queued"] == 2
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
            Warehouse(warehouse).count("current") == 31 + 28 + 30
        )  # March (twice), February and April, once each
    finally:
        assert restarted.stop() in (0, -signal.SIGTERM)
