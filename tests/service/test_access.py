"""The read token in front of ``serve``'s app (a real uvicorn server in a thread), and the
Prometheus gauges stamped with their window."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from driftloop.pipeline.runner import Runner
from driftloop.service.app import create_app
from driftloop.service.coordinator import Coordinator
from driftloop.service.metrics import LoopMetrics
from tests.pipeline.conftest import up_to
from tests.service.conftest import free_port

READ, HOOK = "read-token-a1", "hook-token-b2"
MARCH = (dt.date(2011, 3, 1), dt.date(2011, 3, 31))


@pytest.fixture
def served(make_pipeline) -> Iterator[dict[str, Any]]:
    config = make_pipeline(dashboard={"token": READ}, webhook={"token": HOOK})
    coordinator = Coordinator({config.pipeline: config}, LoopMetrics())
    app = create_app({config.pipeline: config}, coordinator)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "config": config, "coordinator": coordinator}
    server.should_exit = True
    thread.join(10)


def test_the_read_token_guards_runs_metrics_and_the_dashboard(served: dict[str, Any]) -> None:
    url, bearer = served["url"], {"Authorization": f"Bearer {READ}"}
    for path in ("/runs", "/runs/x", "/metrics", "/ui/", "/api/pipelines/bike-sharing/history"):
        assert httpx.get(url + path).status_code == 401, path
        assert httpx.get(url + path, headers={"Authorization": f"Bearer {HOOK}"}).status_code == 401
        assert httpx.get(url + path, headers=bearer).status_code in (200, 404), path
    assert httpx.get(url + "/healthz").status_code == 200  # health checks need no token
    hook = httpx.post(url + "/hooks/bike-sharing", json={}, headers=bearer)
    assert hook.status_code == 401  # webhooks keep their own token: the read token is not it
    assert httpx.get(url + "/runs?limit=abc", headers=bearer).status_code == 400


def test_drift_gauges_carry_their_window(served: dict[str, Any]) -> None:
    config = served["config"]
    outcome = Runner(config, printer=lambda _: None).run(
        start=MARCH[0], end=MARCH[1], steps=up_to("detect")
    )
    metrics = served["coordinator"].metrics
    report_json = outcome.verdict.report_json if outcome.verdict else None
    metrics.record_run(config.pipeline, outcome.status, 1.0, report_json, outcome.window)
    text = httpx.get(served["url"] + "/metrics", headers={"Authorization": f"Bearer {READ}"}).text
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.labels.get("pipeline") == "bike-sharing"
    }
    april = dt.datetime(2011, 4, 1, tzinfo=dt.UTC).timestamp()
    assert samples["driftloop_window_end_timestamp_seconds"] == april
    march = dt.datetime(2011, 3, 1, tzinfo=dt.UTC).timestamp()
    assert samples["driftloop_window_start_timestamp_seconds"] == march
    assert samples["driftloop_share_drifted"] == outcome.verdict.share_drifted  # type: ignore[union-attr]
