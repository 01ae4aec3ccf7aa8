"""The README's main command: the whole demo loop, from the command line (its time is measured by
benchmarks/bench_speed.py, not here: a loaded machine must not fail it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "driftloop", "demo", "--out", "demo"],  # relative, as by default
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("2011-") >= 11 and "11 windows, 8 with dataset drift" in out
    assert "model v1 promoted" in out and "alert sent (console)" in out
    # every drifting month is its own window: cooldown suppresses re-runs, never a new month
    assert "alert console: suppressed" not in out
    # the concept test holds its rate for this one 31-day baseline: it catches every month the
    # shift hurts the model, and October, where the old and new demand curves cross, stays quiet
    assert "concept drift caught in 6 of 7 months; data drift alone in 0" in out
    october = next(line for line in out.splitlines() if line.startswith("2012-10"))
    assert "concept ok" in october
    # act three: spring's drift leaves the classifier as good (reported, not acted on); July's
    # lost night hours lower its estimated AUC before any label, and the loop acts on that alone
    act_three = out[out.index("act three") :]
    july = next(line for line in act_three.splitlines() if line.startswith("2011-07"))
    assert "DROP" in july and "no labels yet" in july
    assert act_three.count("reported, not acted on") == 3 and "realized" in act_three
    assert "the loop acted on 1 (the model was hurt)" in act_three
    assert "retrained: v2" in act_three
    # the commands the demo prints work from any directory: the config's paths are its own
    config = tmp_path / "demo" / "driftloop.yaml"
    for args in (
        ["runs", "--config", str(config)],
        ["model", "list", "bike-demand", "--config", str(config)],
    ):
        listed = subprocess.run(
            [sys.executable, "-m", "driftloop", *args], capture_output=True, text=True, cwd="/"
        )
        assert listed.returncode == 0, listed.stderr
        assert "succeeded" in listed.stdout or "production" in listed.stdout
    assert "history: driftloop ui --config demo/driftloop.yaml" in out
    _dashboard_shows_the_demo(config)
    reports = list((tmp_path / "demo" / "reports").rglob("*.html"))
    assert len(reports) >= 11 + 7
    assert (tmp_path / "demo" / "published" / "bike-demand" / "1" / "model.skops").is_file()
    pointer = json.loads(
        (tmp_path / "demo" / "published" / "bike-demand" / "production.json").read_text()
    )
    assert (tmp_path / "demo" / "published" / "bike-demand" / str(pointer["version"])).is_dir()


def _dashboard_shows_the_demo(config: Path) -> None:
    """Every demo window in the history; act two's concept metrics on its pipeline page."""
    import socket
    import threading

    import httpx
    import uvicorn

    from driftloop.config import load_config
    from driftloop.demo import concept_config
    from driftloop.history.store import HistoryStore
    from driftloop.service.dashboard import dashboard_app

    cfg = load_config(config)
    concept = load_config(concept_config(config.parent))
    windows = HistoryStore(cfg.stores.warehouse.get_secret_value()).windows(cfg.pipeline)
    assert len(windows) >= 11
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = dashboard_app({cfg.pipeline: cfg, concept.pipeline: concept})
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    try:
        main = httpx.get(f"http://127.0.0.1:{port}/ui/pipelines/{cfg.pipeline}")
        shifted = httpx.get(f"http://127.0.0.1:{port}/ui/pipelines/{concept.pipeline}")
    finally:
        server.should_exit = True
    assert main.status_code == shifted.status_code == 200
    assert main.text.count('<rect class="cell"') >= 11 * 10
    assert "Concept metrics" in shifted.text and "rmse per window" in shifted.text
