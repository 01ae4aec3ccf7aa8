"""docs/guide.md runs as written: its marked blocks, in order, against real services.

The guide's step-1 exports are replaced by the test's own services — a fresh PostgreSQL database
for driftloop and one for MLflow, the SeaweedFS S3 server, a local HTTP server holding the CSV
file, and the Slack receiver — under the same names; every other marked block is run unchanged
by bash (`guide: run`), written to its file (`guide: file NAME`) or started in the background
(`guide: background`, the server), with only port 8000 moved to a free one.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from driftloop.data.synthetic import bike_sharing
from driftloop.pipeline.records import RunStore

pytestmark = pytest.mark.postgres

GUIDE = Path(__file__).parents[1] / "docs" / "guide.md"
MARKED = re.compile(r"<!-- guide: (\w+)(?: (\S+))? -->\n```(\w+)\n(.*?)```", re.S)


@dataclass(frozen=True)
class Block:
    kind: str  # environment, run, file, background
    target: str | None
    text: str


def guide_blocks() -> list[Block]:
    return [Block(m[1], m[2], m[4]) for m in MARKED.finditer(GUIDE.read_text())]


def exported_names(text: str) -> set[str]:
    return set(re.findall(r"(?:export\s+|\s\s)([A-Z][A-Z0-9_]*)=", text))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_guide_marks_its_steps() -> None:
    kinds = [b.kind for b in guide_blocks()]
    assert kinds.count("environment") == 1 and kinds.count("background") == 1
    assert kinds.count("run") >= 4 and ("file", "driftloop.yaml") in [
        (b.kind, b.target) for b in guide_blocks()
    ]


def _environment(
    pg_databases: Any, http_files: tuple[str, Path], s3_server: Any, slack: Any
) -> dict[str, str]:
    base, served = http_files
    bike_sharing().write_csv(served / "day.csv")
    return {
        "DRIFTLOOP_WAREHOUSE_URL": pg_databases(),
        "DRIFTLOOP_MLFLOW_URI": pg_databases(),
        "BIKE_DATA_URL": f"{base}/day.csv",
        **s3_server.env(),
        "MODELS_BUCKET": s3_server.bucket,
        "SLACK_WEBHOOK_URL": slack.url,
        "DRIFTLOOP_WEBHOOK_SECRET": secrets.token_hex(32),
    }


def _shell_env(services: dict[str, str]) -> dict[str, str]:
    import os

    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    return {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8", **services}


def _run(text: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", text],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"guide block failed:\n{text}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _wait_healthy(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, "driftloop serve exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("driftloop serve did not answer /healthz")


def _wait_for_runs(warehouse: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        runs = RunStore(warehouse).runs("bike-sharing")
        if len(runs) >= count and all(r["status"] != "running" for r in runs):
            return runs
        time.sleep(0.5)
    raise AssertionError("the webhook's run did not finish")


def test_the_guide_runs_on_real_services(
    tmp_path: Path, pg_databases: Any, http_files: tuple[str, Path], s3_server: Any, slack: Any
) -> None:
    services = _environment(pg_databases, http_files, s3_server, slack)
    blocks = guide_blocks()
    (environment,) = [b for b in blocks if b.kind == "environment"]
    assert exported_names(environment.text) == set(services), "step 1 exports these names"
    env, work, port = _shell_env(services), tmp_path / "guide", _free_port()
    work.mkdir()
    outputs: list[str] = []
    server: subprocess.Popen[str] | None = None
    try:
        for block in blocks:
            text = block.text.replace("8000", str(port))
            if block.kind == "file":
                (work / str(block.target)).write_text(text)
            elif block.kind == "run":
                outputs.append(_run(text, work, env))
            elif block.kind == "background":
                server = subprocess.Popen(
                    ["bash", "-c", f"exec {text}"], cwd=work, env=env, text=True
                )
                _wait_healthy(f"http://127.0.0.1:{port}", server)
        runs = _wait_for_runs(services["DRIFTLOOP_WAREHOUSE_URL"], 3)
    finally:
        if server is not None:
            server.terminate()
            server.wait(60)
    _check_outcomes(runs, outputs, services, s3_server, slack)


def _check_outcomes(
    runs: list[dict[str, Any]],
    outputs: list[str],
    services: dict[str, str],
    s3_server: Any,
    slack: Any,
) -> None:
    by_start = {str(r["window_start"]): r for r in runs}
    assert sorted(by_start) == ["2011-02-01", "2011-04-01", "2011-05-01"]
    assert {r["status"] for r in runs} == {"succeeded"}
    february, april = by_start["2011-02-01"]["verdict"], by_start["2011-04-01"]["verdict"]
    assert {"temp", "atemp"} <= set(february["drifted"]) and not february["fires"]
    assert april["dataset_drift"] and april["fires"]
    assert "v1 promoted" in str(by_start["2011-04-01"]["model_outcome"])
    assert by_start["2011-05-01"]["trigger"] == "webhook"
    answer = json.loads(outputs[-1])
    assert answer["run_id"] == by_start["2011-05-01"]["run_id"]
    assert "production" in outputs[-2]  # model list: v1 is production
    pointer = s3_server.client().get_object(
        Bucket=services["MODELS_BUCKET"], Key="published/bike-demand/production.json"
    )
    assert json.loads(pointer["Body"].read())["name"] == "bike-demand"
    assert any("2011-04-01" in text for text in slack.texts())
    secret_values = [services[k] for k in ("AWS_SECRET_ACCESS_KEY", "DRIFTLOOP_WEBHOOK_SECRET")]
    assert not any(value in "".join(outputs) for value in secret_values)
