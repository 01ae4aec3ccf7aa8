"""Many pipelines on one ``driftloop serve``: at most ``--max-concurrent-runs`` runs at once, in
the order their triggers waited, every trigger run in its own pipeline's database."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from driftloop.pipeline.records import RunStore
from tests.pipeline.conftest import write_config
from tests.service.serving import TOKEN, Server, free_port, wait_for

QUIET = {"retrain": False, "alert": False}
FLEET = 5


def test_a_fleet_never_runs_more_than_the_cap_and_every_trigger_finishes(
    make_pipeline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Before: every due pipeline ran at once (no cap)."""
    paths, warehouses = [], {}
    for i in range(FLEET):
        folder = tmp_path / f"p{i}"
        folder.mkdir()
        name = f"fleet-{i}"
        warehouses[name] = f"sqlite:///{folder / 'warehouse.db'}"
        config = make_pipeline(
            warehouse=warehouses[name], pipeline=name, on_drift=QUIET, append={"enabled": False},
            webhook={"token": TOKEN},
        )  # fmt: skip
        paths.append(write_config(config, folder / "driftloop.yaml"))
    server = Server(paths, free_port(), tmp_path / "serve.log", "--max-concurrent-runs", "2")
    seen: list[int] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            health = httpx.get(f"{server.url}/healthz", timeout=10).json()
            running = [p for p in health["pipelines"].values() if p["running"]]
            seen.append(len(running))
            assert health["max_concurrent_runs"] == 2

    poller = threading.Thread(target=poll, daemon=True)
    try:
        poller.start()
        run_ids = {}
        for name in warehouses:
            answer = server.hook({"start": "2011-03-01", "end": "2011-03-31"}, pipeline=name)
            assert answer.status_code == 202, answer.text
            run_ids[name] = answer.json()["run_id"]

        def all_ended() -> bool:
            return all(
                httpx.get(f"{server.url}/runs/{rid}", timeout=10).json()["status"] == "succeeded"
                for rid in run_ids.values()
            )

        wait_for(all_ended, timeout=600, what="every pipeline's run")
    finally:
        done.set()
        poller.join(20)
        server.stop()
    assert seen and max(seen) <= 2, seen
    assert max(seen) == 2, "the cap was never reached: the runs did not overlap"
    for name, url in warehouses.items():  # each run recorded in its pipeline's own database
        (record,) = RunStore(url).runs(name)
        assert record["run_id"] == run_ids[name] and record["status"] == "succeeded"
