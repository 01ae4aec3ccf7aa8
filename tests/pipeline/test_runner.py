"""The runner on embedded defaults (SQLite, MLflow on sqlite, local folders): records, resume, lock."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.data.warehouse import Warehouse
from driftloop.demo import month
from driftloop.errors import ConfigError
from driftloop.model.registry import Registry
from driftloop.pipeline.records import LockedError, RunStore
from driftloop.pipeline.runner import Runner
from driftloop.pipeline.steps import Skipped, step_names
from tests.pipeline.conftest import COMPLETED, up_to

MAR, FEB = month(2011, 3), month(2011, 2)


def test_a_run_is_recorded_step_by_step(make_pipeline) -> None:
    config = make_pipeline()
    printed: list[str] = []
    outcome = Runner(config, printer=printed.append).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "succeeded" and outcome.verdict.dataset_drift
    record = RunStore(config.stores.warehouse.get_secret_value()).run(outcome.run_id)
    assert record["status"] == "succeeded" and record["trigger"] == "manual"
    assert (record["window_start"], record["window_end"]) == ("2011-03-01", "2011-03-31")
    assert [(s["step"], s["status"]) for s in record["steps"]] == list(COMPLETED.items())
    assert all(s["seconds"] is not None for s in record["steps"])
    assert record["verdict"]["dataset_drift"] is True and "temp" in record["verdict"]["drifted"]
    assert record["model_outcome"].startswith("v1 promoted to production")
    report = Path(record["report_path"]).read_text()
    assert f"run {outcome.run_id}" in report  # the report names its run and the model's fate
    assert "model: v1 promoted to production" in report
    assert printed and printed[0].startswith(
        "Dataset drift in 'bike-sharing' for 2011-03-01 to 2011-03-31"
    )
    assert (Path(config.stores.artifacts) / "bike-demand" / "1" / "model.skops").is_file()


def test_no_drift_means_no_actions(make_pipeline) -> None:
    config = make_pipeline()
    outcome = Runner(config).run(start=FEB[0], end=FEB[1])
    statuses = {
        k: ("skipped" if isinstance(v, Skipped) else "done") for k, v in outcome.results.items()
    }
    # the on_drift actions are skipped; every other step of the table runs as in a full run
    assert statuses == COMPLETED | dict.fromkeys(("retrain", "publish", "alert"), "skipped")
    assert outcome.results["retrain"] == Skipped("no drift that matters")


def test_a_config_without_training_detects_and_alerts_only(make_pipeline) -> None:
    config = make_pipeline(training=None, model=None)  # and no on_drift.retrain: false
    assert config.on_drift.retrain is False
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "succeeded" and outcome.verdict is not None
    assert outcome.verdict.fires
    assert outcome.results["retrain"] == Skipped("on_drift.retrain is off")
    assert not isinstance(outcome.results["alert"], Skipped)


def test_rerunning_a_decided_window_registers_and_pages_nothing_twice(make_pipeline) -> None:
    config = make_pipeline()
    printed: list[str] = []
    first = Runner(config).run(start=MAR[0], end=MAR[1])
    again = Runner(config, printer=printed.append).run(start=MAR[0], end=MAR[1])
    assert again.status == "succeeded" and again.verdict is not None and again.verdict.fires
    why = f"window already decided by run {first.run_id} (--force acts again)"
    assert [again.results[s] for s in ("retrain", "publish")] == [Skipped(why)] * 2
    assert isinstance(again.results["alert"], Skipped)  # nothing new, nothing pending
    said = [line for line in printed if "already decided" in line]
    assert said == [
        f"window 2011-03-01..2011-03-31 was already decided by run {first.run_id}: checked "
        "again, but nothing is retrained, published or alerted (--force acts again)"
    ]
    versions = Registry.open(config.stores.mlflow.get_secret_value()).versions("bike-demand")
    assert len(versions) == 1
    forced = Runner(config).run(start=MAR[0], end=MAR[1], force=True)
    assert forced.results["retrain"].version == 2  # type: ignore[attr-defined]


def test_step_by_step_runs_record_the_model_outcome(make_pipeline) -> None:
    from driftloop.pipeline.single import run_step
    from driftloop.pipeline.steps import step_names

    config = make_pipeline()
    run_id, _, _ = run_step(config, "fetch_reference", start=MAR[0], end=MAR[1])
    for name in step_names()[1:]:
        run_step(config, name, run_id=run_id)
    record = RunStore(config.stores.warehouse.get_secret_value()).run(run_id)
    assert record is not None and record["status"] == "succeeded"
    assert record["model_outcome"].startswith("v1 promoted to production")
    assert "model: v1 promoted to production" in Path(record["report_path"]).read_text()
    again, _, _ = run_step(config, "fetch_reference", start=MAR[0], end=MAR[1])
    for name in step_names()[1:]:
        _, status, result = run_step(config, name, run_id=again)
        if name == "retrain":
            assert status == "skipped" and "already decided by run " + run_id in result.summary()


def test_rerunning_a_window_never_duplicates_rows(make_pipeline) -> None:
    config = make_pipeline(on_drift={"retrain": False, "alert": False})
    for _ in range(2):
        Runner(config).run(start=MAR[0], end=MAR[1])
    warehouse = Warehouse(config.stores.warehouse.get_secret_value())
    assert warehouse.count("current") == 31 and len(warehouse.appends()) == 1


def test_empty_window_is_an_empty_run(make_pipeline) -> None:
    config = make_pipeline()
    outcome = Runner(config).run(start=dt.date(2030, 1, 1), end=dt.date(2030, 1, 31))
    assert outcome.status == "empty" and outcome.error.endswith(
        "no rows between 2030-01-01 and 2030-01-31."
    )
    record = RunStore(config.stores.warehouse.get_secret_value()).run(outcome.run_id)
    assert record["status"] == "empty"
    assert [s["status"] for s in record["steps"]][:3] == ["done", "empty", "pending"]


def test_empty_reference_window_is_an_empty_run_in_run_and_step(make_pipeline, tmp_path) -> None:
    config = make_pipeline()
    raw = json.loads(config.model_dump_json())
    url = config.reference.url.get_secret_value()
    reference = {"url": url, "table": "reference", "date_column": "dteday", "lag_days": 3650}
    empty_ref = make_pipeline(seed=False, reference=reference)
    outcome = Runner(empty_ref).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "empty" and "no rows" in (outcome.error or "")
    record = RunStore(url).run(outcome.run_id)
    assert record["status"] == "empty"
    assert [s["status"] for s in record["steps"]][:2] == ["empty", "pending"]
    raw["reference"] = {**reference, "url": url}
    for key in ("warehouse", "mlflow"):
        raw["stores"][key] = getattr(config.stores, key).get_secret_value()
    path = tmp_path / "empty-ref.yaml"
    path.write_text(yaml.safe_dump(raw))
    args = ["step", "fetch_reference", "--config", str(path), "--start", "2011-03-01"]
    result = CliRunner().invoke(app, [*args, "--end", "2011-03-31", "--run-id", "empty-ref-1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[0])["status"] == "empty"
    assert RunStore(url).run("empty-ref-1")["status"] == "empty"


def test_a_third_party_exception_fails_step_and_run_in_one_line(make_pipeline, tmp_path) -> None:
    trainer = tmp_path / "broken_trainer.py"
    trainer.write_text(
        "class Broken:\n"
        "    def predict(self, X):\n"
        "        raise RuntimeError('predict exploded\\nsecond line')\n\n"
        "def train(X, y, params):\n"
        "    return Broken()\n"
    )
    config = make_pipeline(training__entry_point=f"{trainer}:train")
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "failed"
    assert outcome.error == "retrain: RuntimeError: predict exploded"
    record = RunStore(config.stores.warehouse.get_secret_value()).run(outcome.run_id)
    steps = {s["step"]: s["status"] for s in record["steps"]}
    assert record["status"] == "failed" and steps["retrain"] == "failed"
    assert steps["alert"] == "done"  # the drift alert still goes out


def test_two_runs_of_a_pipeline_never_overlap(make_pipeline) -> None:
    config = make_pipeline()
    store = RunStore(config.stores.warehouse.get_secret_value())
    store.acquire(config.pipeline, "someone-else")  # held by this (live) process
    with pytest.raises(
        LockedError,
        match=r"^Pipeline 'bike-sharing' is already running \(run someone-else, pid \d+ on .+\)\. Wait for it, or resume that run\.$",
    ):
        Runner(config).run(start=MAR[0], end=MAR[1])
    store.release(config.pipeline, "someone-else")
    assert Runner(config).run(start=MAR[0], end=MAR[1]).status == "succeeded"


def test_a_lock_left_by_a_dead_process_is_taken_over(make_pipeline) -> None:
    config = make_pipeline(on_drift={"retrain": False})
    store = RunStore(config.stores.warehouse.get_secret_value())
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    store.acquire(config.pipeline, "ghost")
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE driftloop_locks SET pid = {int(dead.stdout)}")
    assert Runner(config).run(start=MAR[0], end=MAR[1]).status == "succeeded"


def test_resume_continues_from_the_failed_step(make_pipeline, tmp_path: Path) -> None:
    flag = tmp_path / "broken"
    flag.write_text("yes")
    script = tmp_path / "team.py"
    script.write_text(
        "from pathlib import Path\n"
        "from driftloop.model.bike import train as bike\n"
        f"FLAG = Path({str(flag)!r})\n"
        "def train(X, y, params):\n"
        "    if FLAG.exists():\n"
        "        raise RuntimeError('feature store timeout')\n"
        "    return bike(X, y, params)\n"
    )
    config = make_pipeline(training__entry_point=f"{script}:train")
    printed: list[str] = []
    runner = Runner(config, printer=printed.append)
    failed = runner.run(start=MAR[0], end=MAR[1])
    assert failed.status == "failed" and failed.error.startswith(
        "retrain: The training entry point"
    )
    # the alert still went out, saying what happened to the model
    assert len(printed) == 1 and "retrain failed: The training entry point" in printed[0]
    store = RunStore(config.stores.warehouse.get_secret_value())
    before = {s["step"]: s for s in store.run(failed.run_id)["steps"]}
    assert before["retrain"]["status"] == "failed" and before["append"]["status"] == "done"
    with pytest.raises(ConfigError, match=r"^Run 'nope' .*|No run 'nope' in the warehouse"):
        runner.run(resume="nope")
    flag.unlink()
    resumed = runner.run(resume=failed.run_id)
    assert resumed.run_id == failed.run_id and resumed.status == "succeeded"
    after = {s["step"]: s for s in store.run(failed.run_id)["steps"]}
    for name in (n for n, s in before.items() if s["status"] == "done"):
        assert after[name]["finished_at"] == before[name]["finished_at"]  # not repeated
    assert after["retrain"]["status"] == "done" and after["publish"]["status"] == "done"
    assert Warehouse(config.stores.warehouse.get_secret_value()).count("current") == 31
    assert len(printed) == 1  # the alert was not sent twice
    with pytest.raises(
        ConfigError, match=rf"^Run '{failed.run_id}' already succeeded; nothing to resume\.$"
    ):
        runner.run(resume=failed.run_id)


def test_cli_run_runs_and_steps_with_kestra_outputs(make_pipeline, tmp_path: Path) -> None:
    config = make_pipeline(on_drift={"retrain": False})
    path = tmp_path / "driftloop.yaml"
    raw = json.loads(config.model_dump_json())
    for key in ("warehouse", "mlflow"):
        raw["stores"][key] = getattr(config.stores, key).get_secret_value()
    raw["reference"]["url"] = config.reference.url.get_secret_value()
    path.write_text(yaml.safe_dump(raw))
    runner = CliRunner()
    result = runner.invoke(
        app, ["run", "--config", str(path), "--start", "2011-03-01", "--end", "2011-03-31"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "✓ detect" in result.output
        and "dataset drift; drifted:" in result.output
        and ": succeeded" in result.output
    )
    listed = runner.invoke(app, ["runs", "--config", str(path), "--json"])
    assert json.loads(listed.output)[0]["status"] == "succeeded"
    run_id = json.loads(listed.output)[0]["run_id"]
    table = runner.invoke(app, ["runs", "--config", str(path)])
    assert table.exit_code == 0 and run_id in table.output  # whole, even when piped
    env = {**os.environ, "KESTRA_EXECUTION_ID": "exec-1"}
    outputs = []
    for name in up_to("detect"):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "driftloop",
                "step",
                name,
                "--config",
                str(path),
                "--run-id",
                "kestra-exec-1",
                "--start",
                "2011-04-01",
                "--end",
                "2011-04-30",
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.strip().splitlines()
        assert json.loads(lines[0])["status"] == "done"
        assert lines[-1].startswith("::{") and lines[-1].endswith("}::")
        outputs.append(json.loads(lines[-1][2:-2])["outputs"])
    assert outputs[2]["dataset_drift"] is True and outputs[2]["run_id"] == "kestra-exec-1"
    bad = runner.invoke(app, ["step", "nope", "--config", str(path)])
    assert (
        bad.exit_code == 2
        and f"Unknown step 'nope'. Steps: {', '.join(step_names())}." in bad.output
    )
    runs_folder = Path(config.stores.runs)
    before = sorted(p.name for p in runs_folder.parent.iterdir())
    for bad_id in ("../../escape", "a/b", ".hidden", ""):
        escaped = runner.invoke(
            app, ["step", "fetch_current", "--config", str(path), "--run-id", bad_id]
        )
        assert escaped.exit_code == 2, escaped.output
        assert f"Invalid run id {bad_id!r}" in escaped.output and "Traceback" not in escaped.output
    assert sorted(p.name for p in runs_folder.parent.iterdir()) == before  # nothing written
    resumed = runner.invoke(app, ["run", "--config", str(path), "--resume", "../x"])
    assert resumed.exit_code == 2 and "Invalid run id '../x'" in resumed.output


def test_rerunning_an_old_window_trains_on_data_up_to_it_only(make_pipeline) -> None:
    from driftloop.pipeline.steps import RunContext
    from driftloop.pipeline.steps.fetch import fetch_reference
    from driftloop.pipeline.steps.retrain import training_frame

    config = make_pipeline(on_drift={"retrain": False})
    for month_ in (MAR, month(2011, 4), month(2011, 5)):
        assert Runner(config).run(start=month_[0], end=month_[1]).status == "succeeded"
    ctx = RunContext(config, "rerun-march", MAR[0], MAR[1])
    fetch_reference(ctx)
    frame = training_frame(ctx)
    assert str(frame["dteday"].max()) == str(MAR[1])  # no April or May rows
    assert frame.height == 31 + 31  # the January reference and March
    later = RunContext(config, "rerun-may", *month(2011, 5))
    fetch_reference(later)
    assert training_frame(later).height == 31 + 31 + 30 + 31


def test_a_newer_finished_run_supersedes_older_unfinished_runs_of_its_window(
    make_pipeline, tmp_path
) -> None:
    trainer = tmp_path / "broken_trainer.py"
    trainer.write_text("def train(X, y, params):\n    raise RuntimeError('broken')\n")
    broken = make_pipeline(training__entry_point=f"{trainer}:train")
    failed = Runner(broken).run(start=MAR[0], end=MAR[1])
    assert failed.status == "failed"
    fixed = make_pipeline(seed=False)
    again = Runner(fixed).run(start=MAR[0], end=MAR[1])
    assert again.status == "succeeded"
    store = RunStore(fixed.stores.warehouse.get_secret_value())
    assert store.run(failed.run_id)["status"] == "superseded"
    with pytest.raises(ConfigError, match=r"already superseded; nothing to resume"):
        Runner(fixed).run(resume=failed.run_id)


def test_model_promote_and_rollback_move_the_published_pointer(make_pipeline, tmp_path) -> None:
    from tests.pipeline.conftest import write_config

    config = make_pipeline()
    for _ in range(2):  # v1 promoted and published; v2 (same data, forced) rejected
        Runner(config).run(start=MAR[0], end=MAR[1], force=True)
    path = write_config(config, tmp_path / "driftloop.yaml")
    pointer = Path(config.stores.artifacts) / "bike-demand" / "production.json"
    assert json.loads(pointer.read_text())["version"] == 1
    runner = CliRunner()
    promoted = runner.invoke(app, ["model", "promote", "bike-demand", "2", "--config", str(path)])
    assert promoted.exit_code == 0, promoted.output
    assert json.loads(pointer.read_text())["version"] == 2
    assert (Path(config.stores.artifacts) / "bike-demand" / "2" / "model.skops").is_file()
    back = runner.invoke(app, ["model", "rollback", "bike-demand", "--config", str(path)])
    assert back.exit_code == 0, back.output
    assert json.loads(pointer.read_text())["version"] == 1


def test_every_kestra_task_of_an_empty_window_succeeds_as_empty(make_pipeline, tmp_path) -> None:
    from tests.pipeline.conftest import write_config

    path = write_config(make_pipeline(), tmp_path / "driftloop.yaml")
    env = {**os.environ, "KESTRA_EXECUTION_ID": "exec-empty"}
    window = ["--start", "2030-01-01", "--end", "2030-01-31"]
    from driftloop.pipeline.steps import step_names

    for name in [step for step in step_names() if step != "concept"]:  # concept is not configured
        proc = subprocess.run(
            [sys.executable, "-m", "driftloop", "step", name, "--config", str(path),
             "--run-id", "exec-empty", *window],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        assert proc.returncode == 0, (name, proc.stderr)  # no retries, no failed execution
        lines = proc.stdout.strip().splitlines()
        status = json.loads(lines[0])["status"]
        outputs = json.loads(lines[-1][2:-2])["outputs"]
        if name != "fetch_reference":
            assert status == "empty" and outputs["fires"] is False, (name, lines)
    assert (
        RunStore(make_pipeline(seed=False).stores.warehouse.get_secret_value()).run("exec-empty")[
            "status"
        ]
        == "empty"
    )
