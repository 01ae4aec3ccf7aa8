"""``driftloop serve`` against hostile or unlucky conditions: unknown pipelines, a public bind
without a token, a client that stops halfway through its headers, and a database outage."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.pipeline.conftest import write_config
from tests.private_postgres import PrivateServer, private_postgres
from tests.service.serving import TOKEN, Server, free_port, wait_for

MARCH = {"start": "2011-03-01", "end": "2011-03-31"}


@pytest.fixture
def database() -> Iterator[PrivateServer]:
    """A PostgreSQL server of this test's own (the test stops and starts it)."""
    with private_postgres() as server:
        yield server


@pytest.fixture
def served(make_pipeline, database: PrivateServer, tmp_path: Path) -> Iterator[Server]:
    warehouse = database.create("warehouse")
    config = make_pipeline(warehouse=warehouse, webhook={"token": TOKEN})
    server = Server(
        write_config(config, tmp_path / "driftloop.yaml"), free_port(), tmp_path / "log"
    )
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.stop()


def test_an_unknown_pipeline_is_a_404_that_names_no_pipeline(served: Server) -> None:
    for token in (TOKEN, None, "wrong"):
        answer = served.hook(MARCH, token=token, pipeline="payroll")
        assert answer.status_code == 404
        assert answer.json() == {"error": "unknown pipeline"}
        assert "bike-sharing" not in answer.text


def test_a_public_bind_without_a_dashboard_token_is_refused(make_pipeline, tmp_path) -> None:
    path = write_config(make_pipeline(seed=False), tmp_path / "driftloop.yaml")
    argv = [sys.executable, "-m", "driftloop", "serve", "--config", str(path)]
    done = subprocess.run(
        [*argv, "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "dashboard.token" in lines[0] and "0.0.0.0" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def test_a_client_that_stops_sending_its_headers_is_cut_off(served: Server) -> None:
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as conn:
        conn.sendall(b"POST /hooks/bike-sharing HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        assert conn.recv(100) == b""  # closed by the server (socket.timeout if held)
    with socket.create_connection((host, int(port)), timeout=20) as idle:
        assert idle.recv(100) == b""  # a connection that never sends a byte, too
    assert httpx.get(served.url + "/healthz", timeout=10).status_code == 200


def test_a_database_outage_is_a_503_with_one_line_and_then_recovers(
    served: Server, database: PrivateServer
) -> None:
    assert httpx.get(served.url + "/runs", timeout=10).status_code == 200
    database.stop()
    for path in ("/healthz", "/runs", "/runs/20110301T000000-abcdef12"):
        answer = httpx.get(served.url + path, timeout=10)
        assert answer.status_code == 503, (path, answer.text)
        assert answer.headers["retry-after"].isdigit()
        error = answer.json()["error"]
        assert error.startswith("the database is unavailable") and "\n" not in error
    hooked = served.hook(MARCH)  # nothing accepted that could not be committed
    assert hooked.status_code == 503 and hooked.headers["retry-after"].isdigit()
    time.sleep(1.5)  # the outbox timer (every second) meets the outage too
    database.start()
    wait_for(
        lambda: httpx.get(served.url + "/healthz", timeout=10).status_code == 200,
        timeout=30,
        what="healthz after the database came back",
    )
    assert httpx.get(served.url + "/runs", timeout=10).status_code == 200
    log = served.log.read_text()
    assert "Traceback" not in log and "the database is unavailable" in log
