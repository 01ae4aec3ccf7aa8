"""The durable trigger queue under ``driftloop serve`` (a real subprocess, PostgreSQL): a trigger
waits while another process holds the pipeline's lock, survives a stop and a ``kill -9``, and
its run id answers from the moment it is accepted."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from driftloop.data.warehouse import Warehouse
from driftloop.pipeline.records import RunStore
from driftloop.service.signatures import signed_headers
from driftloop.service.triggers import TriggerStore
from tests.pipeline.conftest import COMPLETED, held_trainer, write_config
from tests.service.serving import SECRET, TOKEN, Server, free_port, wait_for

pytestmark = pytest.mark.postgres

PIPELINE = "bike-sharing"
HOLDER = "20110101T000000-c1c1c1c1"  # the run id of another process's `driftloop run`
WINDOWS = [
    {"start": "2011-02-01", "end": "2011-02-28"},
    {"start": "2011-03-01", "end": "2011-03-31"},
    {"start": "2011-04-01", "end": "2011-04-30"},
]


@pytest.fixture
def pipeline(make_pipeline, pg_databases, tmp_path: Path) -> dict:
    entry_point, flag, started = held_trainer(tmp_path)
    warehouse = pg_databases()
    config = make_pipeline(
        warehouse=warehouse,
        training__entry_point=entry_point,
        webhook={"token": TOKEN, "hmac_secret": SECRET},
    )
    return {
        "path": write_config(config, tmp_path / "driftloop.yaml"),
        "warehouse": warehouse,
        "flag": flag,
        "started": started,
        "log": tmp_path / "serve.log",
    }


def answer(server: Server, run_id: str) -> dict:
    got = httpx.get(f"{server.url}/runs/{run_id}", timeout=10)
    assert got.status_code == 200, got.text
    return dict(got.json())


def finished(server: Server, run_id: str) -> bool:
    return answer(server, run_id)["status"] in ("succeeded", "failed", "empty")


def test_a_trigger_waits_for_a_lock_held_elsewhere_and_then_runs(pipeline) -> None:
    records = RunStore(pipeline["warehouse"])
    records.acquire(PIPELINE, HOLDER)  # this process is the other one, alive
    server = Server(pipeline["path"], free_port(), pipeline["log"])
    try:
        accepted = server.hook(WINDOWS[1])
        assert accepted.status_code == 202
        run_id = accepted.json()["run_id"]
        first = answer(server, run_id)  # known at once, before any run record exists
        assert first["status"] in ("queued", "running") and first["pipeline"] == PIPELINE
        wait_for(
            lambda: answer(server, run_id)["trigger_state"]["attempts"] >= 2,
            timeout=30,
            what="a retry after the held lock",
        )
        waiting = answer(server, run_id)
        assert waiting["status"] == "queued" and waiting["trigger_state"]["state"] == "queued"
        assert "already running" in waiting["trigger_state"]["error"]
        assert records.run(run_id) is None  # nothing ran: the lock was never taken from its holder
        records.release(PIPELINE, HOLDER)
        wait_for(lambda: finished(server, run_id), timeout=120, what="the run after the lock")
        done = answer(server, run_id)
        assert done["status"] == "succeeded" and done["trigger_state"]["state"] == "done"
        assert done["window_start"] == "2011-03-01"
        assert "Traceback" not in pipeline["log"].read_text()
    finally:
        server.stop()


def test_queued_triggers_and_seen_signatures_survive_a_stop(pipeline) -> None:
    records = RunStore(pipeline["warehouse"])
    records.acquire(PIPELINE, HOLDER)
    server = Server(pipeline["path"], free_port(), pipeline["log"])
    ignored = json.dumps({"status": "resolved", "alerts": [{"status": "resolved"}]}).encode()
    signature = signed_headers(SECRET, ignored)
    try:
        ids = [server.hook(window).json()["run_id"] for window in WINDOWS]
        assert server.hook({}, token=None, raw=ignored, signature=signature).status_code == 200
    finally:
        assert server.stop() in (0, -15)
    queued = TriggerStore(pipeline["warehouse"]).queued(PIPELINE)
    assert [t.trigger_id for t in queued] == ids and {t.state for t in queued} == {"queued"}
    records.release(PIPELINE, HOLDER)

    restarted = Server(pipeline["path"], free_port(), pipeline["log"])
    try:
        replayed = restarted.hook({}, token=None, raw=ignored, signature=signature)
        assert replayed.status_code == 401 and "replayed" in replayed.json()["error"]
        for run_id in ids:
            wait_for(lambda r=run_id: finished(restarted, r), timeout=180, what=f"run {run_id}")
        ran = {r["run_id"]: r for r in records.runs(PIPELINE)}
        assert set(ran) == set(ids) and {r["status"] for r in ran.values()} == {"succeeded"}
        assert [ran[i]["window_start"] for i in ids] == [w["start"] for w in WINDOWS]
    finally:
        restarted.stop()
    assert Warehouse(pipeline["warehouse"]).count("current") == 28 + 31 + 30


def test_a_run_whose_server_was_killed_is_resumed_once_by_the_next(pipeline) -> None:
    pipeline["flag"].write_text("1")
    server = Server(pipeline["path"], free_port(), pipeline["log"])
    try:
        run_id = server.hook(WINDOWS[2]).json()["run_id"]
        wait_for(pipeline["started"].exists, what="the retrain step")
        queued_behind = server.hook(WINDOWS[0]).json()
        assert queued_behind["action"] == "queued"
    finally:
        server.kill()
    left = TriggerStore(pipeline["warehouse"]).get(run_id)
    assert left is not None and left.state == "running"
    pipeline["flag"].unlink()

    restarted = Server(pipeline["path"], free_port(), pipeline["log"])
    try:
        for waited in (run_id, queued_behind["run_id"]):
            wait_for(lambda r=waited: finished(restarted, r), timeout=180, what=f"run {waited}")
        resumed = RunStore(pipeline["warehouse"]).run(run_id)
        assert resumed is not None and resumed["status"] == "succeeded"
        assert {s["step"]: s["status"] for s in resumed["steps"]} == COMPLETED
        assert answer(restarted, run_id)["trigger_state"]["attempts"] == 2
        assert len(RunStore(pipeline["warehouse"]).runs(PIPELINE)) == 2
    finally:
        restarted.stop()
    assert Warehouse(pipeline["warehouse"]).count("current") == 30 + 28
