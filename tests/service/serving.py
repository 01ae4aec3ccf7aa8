"""``driftloop serve`` as a real subprocess on a free port, and the helpers its tests share."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

TOKEN, SECRET = "hook-token-123", "hmac-secret-456"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], object], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class Server:
    """``driftloop serve --config ...`` answering on a free port; ``stop()`` sends SIGTERM."""

    def __init__(self, config_path: Path | list[Path], port: int, log: Path, *extra: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        paths = config_path if isinstance(config_path, list) else [config_path]
        argv = [sys.executable, "-m", "driftloop", "serve", *extra]
        argv += [arg for path in paths for arg in ("--config", str(path))]
        self.log = log
        self.proc = subprocess.Popen(
            [*argv, "--port", str(port), "--drain-seconds", "1"],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120  # imports and reconciling at start, on a busy machine
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
        signature: dict[str, str] | None = None,
        pipeline: str = "bike-sharing",
        raw: bytes | None = None,
    ) -> httpx.Response:
        raw = json.dumps(body).encode() if raw is None else raw
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if signature:
            headers.update(signature)
        return httpx.post(f"{self.url}/hooks/{pipeline}", content=raw, headers=headers, timeout=10)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)


@contextlib.contextmanager
def app_in_thread(app: Any) -> Iterator[str]:
    """A Starlette app served by uvicorn in a thread of the test, on a free port; its URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)
