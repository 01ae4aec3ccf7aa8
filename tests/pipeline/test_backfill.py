"""Backfill through the real runner: windows in order, detection only, skipped or resumed."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.data.warehouse import Warehouse
from driftloop.errors import ConfigError
from driftloop.history.store import HistoryStore
from driftloop.pipeline.backfill import DETECTION_STEPS, backfill, windows
from driftloop.pipeline.records import RunStore
from driftloop.pipeline.runner import Runner
from tests.pipeline.conftest import write_config

D = dt.date
MONTHS = windows(D(2011, 2, 1), D(2011, 4, 30), "1mo")


def test_windows_are_whole_and_ordered() -> None:
    assert windows(D(2011, 1, 31), D(2011, 4, 29), "1mo") == [
        (D(2011, 1, 31), D(2011, 2, 27)),
        (D(2011, 2, 28), D(2011, 3, 30)),
        (D(2011, 3, 31), D(2011, 4, 29)),
    ]
    assert windows(D(2011, 1, 3), D(2011, 1, 30), "2w") == [
        (D(2011, 1, 3), D(2011, 1, 16)),
        (D(2011, 1, 17), D(2011, 1, 30)),
    ]
    assert len(windows(D(2011, 1, 1), D(2011, 12, 31), "7d")) == 52


@pytest.mark.parametrize(
    ("first", "last", "every", "message"),
    [
        (D(2011, 1, 1), D(2011, 2, 1), "weekly", r"--every must be .* Got 'weekly'"),
        (D(2011, 1, 1), D(2011, 2, 1), "0d", r"Got '0d'"),
        (D(2011, 2, 1), D(2011, 1, 1), "7d", r"--to \(2011-01-01\) is before --from"),
        (D(2011, 1, 1), D(2011, 1, 5), "7d", "holds no whole 7d window"),
    ],
    ids=["word", "zero", "reversed", "too-short"],
)
def test_bad_ranges_say_what_to_fix(first: D, last: D, every: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        windows(first, last, every)


def test_a_backfill_detects_each_window_in_order_without_actions(make_pipeline) -> None:
    config = make_pipeline()  # retrain and alerts on: a backfill still does neither
    seen: list[tuple[int, int]] = []
    result = backfill(config, MONTHS, progress=lambda done, total: seen.append((done, total)))
    assert [w.status for w in result.windows] == ["succeeded"] * 3
    assert seen == [(1, 3), (2, 3), (3, 3)]
    url = config.stores.warehouse.get_secret_value()
    history = HistoryStore(url).history("bike-sharing")["windows"]
    assert [(w["start"], w["end"]) for w in history] == [
        ("2011-02-01", "2011-02-28"),
        ("2011-03-01", "2011-03-31"),
        ("2011-04-01", "2011-04-30"),
    ]
    assert history[1]["dataset_drift"] is True  # March drifts, and still nothing retrains
    runs = RunStore(url).window_runs("bike-sharing")
    assert {tuple(r["steps"]) for r in runs} == {DETECTION_STEPS}
    assert not (Path(config.stores.artifacts) / "bike-demand").exists()
    assert Warehouse(url).appends() == []


def test_a_second_backfill_skips_what_is_done(make_pipeline) -> None:
    config = make_pipeline()
    first = backfill(config, MONTHS[:2])
    again = backfill(config, MONTHS)
    assert [w.status for w in again.windows] == ["skipped", "skipped", "succeeded"]
    assert [w.run_id for w in again.windows[:2]] == [w.run_id for w in first.windows]
    assert (
        len(RunStore(config.stores.warehouse.get_secret_value()).window_runs("bike-sharing")) == 3
    )


def test_an_interrupted_backfill_continues_where_it_stopped(make_pipeline) -> None:
    config = make_pipeline()
    stop = threading.Event()

    def stop_after_first_window(done: int, total: int) -> None:
        stop.set()

    stopped = Runner(config).run(  # a backfill's run of March, stopped after its fetches
        start=MONTHS[1][0],
        end=MONTHS[1][1],
        trigger="backfill",
        steps=DETECTION_STEPS,
        stop=stop,
        on_step=lambda name, status, result: stop.set() if name == "fetch_current" else None,
    )
    assert stopped.status == "interrupted"
    stop.clear()
    first = backfill(config, MONTHS, progress=stop_after_first_window, stop=stop)
    assert [w.status for w in first.windows] == ["succeeded", "interrupted"]
    assert first.windows[1].run_id == stopped.run_id and first.windows[1].resumed
    stop.clear()
    second = backfill(config, MONTHS)
    assert [(w.status, w.resumed) for w in second.windows] == [
        ("skipped", False),
        ("succeeded", True),
        ("succeeded", False),
    ]
    assert second.windows[1].run_id == stopped.run_id
    record = RunStore(config.stores.warehouse.get_secret_value()).run(stopped.run_id)
    assert record is not None and record["status"] == "succeeded"
    assert [s["status"] for s in record["steps"]] == ["done", "done", "done", "skipped"]


def test_backfill_with_actions_runs_the_whole_loop(make_pipeline) -> None:
    config = make_pipeline(on_drift={"alert": False})
    result = backfill(config, MONTHS[1:2], actions=True)
    assert [w.status for w in result.windows] == ["succeeded"]
    assert (Path(config.stores.artifacts) / "bike-demand" / "1" / "model.skops").is_file()


def test_backfill_on_the_command_line(make_pipeline, tmp_path: Path) -> None:
    config = make_pipeline()
    path = write_config(config, tmp_path / "driftloop.yaml")
    args = ["backfill", "--config", str(path), "--from", "2011-02-01", "--to", "2011-03-31"]
    cli = CliRunner()
    done = cli.invoke(app, [*args, "--every", "1mo"])
    assert done.exit_code == 0, done.output
    assert "backfill bike-sharing: 2 of 2 windows (2 succeeded)" in done.output
    lines = [line for line in done.output.splitlines() if line.startswith("2011-")]
    assert [line.split(":")[0] for line in lines] == [
        "2011-02-01..2011-02-28 succeeded",
        "2011-03-01..2011-03-31 succeeded",
    ]  # one verdict line per window
    assert "no dataset drift; drifted: " in lines[0] and "dataset drift; drifted: " in lines[1]
    again = cli.invoke(app, [*args, "--every", "1mo"])
    assert "2 of 2 windows (2 skipped)" in again.output
    repeated = [line for line in again.output.splitlines() if line.startswith("2011-")]
    assert [line.replace(" skipped:", " succeeded:") for line in repeated] == lines
    bad = cli.invoke(app, [*args, "--every", "monthly"])
    assert bad.exit_code == 2
    assert bad.output.strip().splitlines() == [
        "error: --every must be a number of days, weeks or months like 7d, 2w or 1mo. "
        "Got 'monthly'."
    ]


def test_ctrl_c_then_the_same_command_finishes_the_backfill(make_pipeline, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    config = make_pipeline()
    path = write_config(config, tmp_path / "driftloop.yaml")
    argv = [sys.executable, "-m", "driftloop", "backfill", "--config", str(path),
            "--from", "2011-02-01", "--to", "2011-12-31", "--every", "7d"]  # fmt: skip
    planned = windows(D(2011, 2, 1), D(2011, 12, 31), "7d")
    store = RunStore(config.stores.warehouse.get_secret_value())
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(store.window_runs("bike-sharing")) < 4:
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    first.send_signal(signal.SIGINT)
    _, stderr = first.communicate(timeout=60)
    assert first.returncode == 130, stderr
    assert "backfill interrupted: run the same command again to continue it" in stderr
    assert len(store.window_runs("bike-sharing")) < len(planned)
    second = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    said = (stderr, second.stdout, second.stderr)
    assert second.returncode == 0, said
    assert f"{len(planned)} of {len(planned)} windows" in second.stdout, said
    runs = store.window_runs("bike-sharing")
    statuses = [(r["window_start"], r["status"]) for r in runs]
    assert len(runs) == len(planned), (statuses, said)  # the cut-short window resumed, not rerun
    assert {r["status"] for r in runs} == {"succeeded"}, (statuses, said)
    history = HistoryStore(config.stores.warehouse.get_secret_value()).history("bike-sharing")
    assert [(w["start"], w["end"]) for w in history["windows"]] == [
        (str(a), str(b)) for a, b in planned
    ]


@pytest.mark.postgres
def test_a_backfill_on_postgresql_skips_what_is_done(make_pipeline, pg_url: str) -> None:
    config = make_pipeline(warehouse=pg_url)
    assert [w.status for w in backfill(config, MONTHS[:2]).windows] == ["succeeded"] * 2
    again = backfill(config, MONTHS)
    assert [w.status for w in again.windows] == ["skipped", "skipped", "succeeded"]
    history = HistoryStore(pg_url).history("bike-sharing")["windows"]
    assert [w["start"] for w in history] == ["2011-02-01", "2011-03-01", "2011-04-01"]


def test_a_run_of_unknown_steps_is_refused_before_anything_is_recorded(make_pipeline) -> None:
    config = make_pipeline(seed=False)
    with pytest.raises(ConfigError, match=r"Unknown steps \['detekt'\]\. Steps: fetch_reference"):
        Runner(config).run(start=MONTHS[0][0], end=MONTHS[0][1], steps=("detekt",))
    assert RunStore(config.stores.warehouse.get_secret_value()).window_runs("bike-sharing") == []
