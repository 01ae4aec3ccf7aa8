"""The pipeline fixtures, shared with the service tests, and a dashboard served over a history."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import polars as pl
import pytest

from driftloop.config import PipelineConfig, load_config
from driftloop.data.sources import filter_window
from driftloop.data.warehouse import Warehouse
from driftloop.demo import demo_config, month
from driftloop.pipeline.backfill import backfill, windows
from driftloop.pipeline.runner import Runner
from tests.pipeline.conftest import bikes, make_pipeline, write_config

__all__ = ["Dashboard", "bikes", "dashboard", "make_pipeline"]

READ_TOKEN = "read-token-5c1f"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Dashboard:
    url: str
    token: str
    config: PipelineConfig
    config_path: Path
    windows: list[tuple[dt.date, dt.date]]
    model_run: str  # the run that trained and promoted v1

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory, bikes: pl.DataFrame) -> Iterator[Dashboard]:
    """``driftloop ui`` as a real process over a 24-window backfill of the demo data (one of the
    windows run as the whole loop first, so the model was trained and promoted there)."""
    tmp = tmp_path_factory.mktemp("dashboard")
    raw = demo_config(tmp)
    (tmp / "data").mkdir()
    bikes.write_csv(tmp / "data" / "day.csv")
    raw["dashboard"] = {"token": READ_TOKEN}
    config = load_config(raw)
    reference = filter_window(bikes, "dteday", *month(2011, 1))
    Warehouse(config.stores.warehouse.get_secret_value()).seed(
        reference, table="reference", if_exists="replace"
    )
    planned = windows(dt.date(2011, 2, 1), dt.date(2012, 1, 31), "2w")[:24]
    model_run = Runner(config, printer=lambda _: None).run(start=planned[6][0], end=planned[6][1])
    assert model_run.results["retrain"].promoted, model_run.results  # type: ignore[attr-defined]
    backfill(config, planned, printer=lambda _: None)
    path = write_config(config, tmp / "driftloop.yaml")
    with running_ui(path, tmp / "ui.log") as url:
        yield Dashboard(url, READ_TOKEN, config, path, planned, model_run.run_id)


@contextlib.contextmanager
def running_ui(config_path: Path, log: Path) -> Iterator[str]:
    """``driftloop ui`` on a free port, answering; its URL. Stopped on exit."""
    port = free_port()
    argv = [sys.executable, "-m", "driftloop", "ui", "--config", str(config_path)]
    proc = subprocess.Popen(
        [*argv, "--port", str(port)], stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/ui/login", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "driftloop ui did not start"
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(30)
