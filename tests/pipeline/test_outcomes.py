"""The same situation ends the same way however the loop runs: `driftloop run`, `run --resume`,
`driftloop step` and a Kestra task (its exported command line, run as Kestra would)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import driftloop.pipeline.runner as runner_module
import driftloop.pipeline.steps as steps_module
from driftloop.cli import app
from driftloop.export.kestra import Runtime, export_kestra
from driftloop.pipeline.records import RunStore
from driftloop.pipeline.steps import STEPS
from tests.pipeline.conftest import COMPLETED, after, held_trainer, up_to, write_config

MAR = ("2011-03-01", "2011-03-31")
EMPTY = ("2030-01-01", "2030-01-31")
NO_ROWS = "no rows between 2030-01-01 and 2030-01-31."


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def status_of(config, run_id: str) -> tuple[str, dict[str, str]]:
    record = RunStore(config.stores.warehouse.get_secret_value()).run(run_id)
    return record["status"], {s["step"]: s["status"] for s in record["steps"]}


def test_an_empty_window_is_an_empty_run_through_run(make_pipeline, tmp_path) -> None:
    config = make_pipeline()
    path = write_config(config, tmp_path / "driftloop.yaml")
    code, out, err = run_cli("run", "--config", str(path), "--start", EMPTY[0], "--end", EMPTY[1])
    assert code == 0 and err == ""
    assert NO_ROWS in out and ": empty (2030-01-01 to 2030-01-31)" in out
    run_id = out.split("run ")[-1].split(":")[0]
    assert status_of(config, run_id)[0] == "empty"


def test_an_empty_window_found_on_resume_is_an_empty_run(make_pipeline, tmp_path) -> None:
    csv = tmp_path / "late.csv"
    config = make_pipeline(current={"uri": str(csv), "date_column": "dteday"})
    path = write_config(config, tmp_path / "driftloop.yaml")
    code, _, err = run_cli("run", "--config", str(path), "--start", EMPTY[0], "--end", EMPTY[1])
    assert code == 2 and "error: fetch_current: " in err and "Resume with: driftloop run" in err
    run_id = err.split("--resume ")[-1].strip()
    assert status_of(config, run_id)[0] == "failed"
    pl.DataFrame({"dteday": [dt.date(2011, 3, 1)], "cnt": [1]}).write_csv(csv)  # none in 2030
    code, out, err = run_cli("run", "--config", str(path), "--resume", run_id)
    assert code == 0 and err == "" and NO_ROWS in out and f"run {run_id}: empty" in out
    assert status_of(config, run_id)[0] == "empty"


def test_an_empty_window_is_empty_through_step(make_pipeline, tmp_path) -> None:
    config = make_pipeline()
    path = write_config(config, tmp_path / "driftloop.yaml")
    args = ["--config", str(path), "--run-id", "step-empty", "--start", EMPTY[0], "--end", EMPTY[1]]
    for name in up_to("detect"):
        code, out, err = run_cli("step", name, *args)
        assert code == 0 and err == "", (name, out, err)
    last = json.loads(out.splitlines()[0])
    assert last["status"] == "empty" and last["fires"] is False and NO_ROWS in last["message"]
    assert status_of(config, "step-empty")[0] == "empty"


def test_every_kestra_task_of_an_empty_window_runs_its_exported_command(
    make_pipeline, tmp_path
) -> None:
    config = make_pipeline()
    folder = tmp_path / "kestra"
    runtime = Runtime(image="driftloop:test")  # the commands run here, driftloop on the PATH
    export_kestra(
        write_config(config, tmp_path / "driftloop.yaml"), config, folder, runtime=runtime
    )
    execution = "kestra-empty-1"
    env = {
        **os.environ,
        "KESTRA_EXECUTION_ID": execution,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    outputs: dict[str, dict] = {}
    for flow in dict.fromkeys(s.flow for s in STEPS):  # the flows, in the order they run
        exported = json.loads(json.dumps(__import__("yaml").safe_load(
            (folder / f"bike-sharing-{flow}.yaml").read_text()
        )))  # fmt: skip
        for task in exported["tasks"][0]["tasks"]:
            command = (
                task["commands"][0]
                .replace("{{ execution.id }}", execution)
                .replace("{{ inputs.run_id }}", execution)
                .replace("{{ inputs.start ?? (trigger.body.start ?? '') }}", EMPTY[0])
                .replace("{{ inputs.end ?? (trigger.body.end ?? '') }}", EMPTY[1])
                .replace("{{ inputs.as_of ?? '' }}", "")
            )
            assert "{{" not in command, command
            proc = subprocess.run(
                command, shell=True, cwd=folder, env=env, capture_output=True, text=True
            )
            assert proc.returncode == 0, (task["id"], proc.stderr)  # Kestra would retry, fail
            line = proc.stdout.strip().splitlines()[-1]
            outputs[task["id"]] = json.loads(line[2:-2])["outputs"]
    assert outputs["detect"]["fires"] is False and outputs["detect"]["run_id"] == execution
    assert all(o["run_id"] == execution for o in outputs.values())
    assert [o.get("status") for o in outputs.values()][1:] == ["empty"] * (len(outputs) - 1)
    assert status_of(config, execution)[0] == "empty"


def third_party_errors() -> dict[str, BaseException]:
    """What each step's libraries raise when a part fails (any other step: a full disk)."""
    import botocore.exceptions
    import psycopg
    from mlflow.exceptions import MlflowException

    return {
        "fetch_reference": psycopg.OperationalError("connection to server failed\nDETAIL: x"),
        "fetch_current": botocore.exceptions.EndpointConnectionError(endpoint_url="http://s3"),
        "detect": MemoryError("out of memory"),
        "concept": KeyError("prediction"),
        "append": psycopg.errors.UniqueViolation("duplicate key value"),
        "retrain": MlflowException("RESOURCE_DOES_NOT_EXIST: registered model"),
        "publish": botocore.exceptions.ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "denied"}}, "PutObject"
        ),
        "alert": ConnectionResetError("[Errno 104] reset by peer"),
    }


@pytest.fixture
def broken_step(monkeypatch):
    """Make step ``name`` raise ``error`` (fault injection: the table's entry is replaced)."""

    def breaks(name: str, error: BaseException) -> None:
        def boom(ctx):
            raise error

        patched = tuple(dataclasses.replace(s, run=boom) if s.name == name else s for s in STEPS)
        monkeypatch.setattr(steps_module, "STEPS", patched)
        monkeypatch.setattr(runner_module, "STEPS", patched)

    return breaks


@pytest.mark.parametrize("name", [s.name for s in STEPS])
def test_any_exception_in_any_step_fails_step_and_run_in_one_line(
    name, make_pipeline, tmp_path, broken_step
) -> None:
    error = third_party_errors().get(name, OSError(28, "No space left on device\nsecond line"))
    broken_step(name, error)
    config = make_pipeline(on_drift={"retrain": False})
    path = write_config(config, tmp_path / "driftloop.yaml")
    code, _, err = run_cli("run", "--config", str(path), "--start", MAR[0], "--end", MAR[1])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"error: {name}: {type(error).__name__}"), err
    run_id = err.split("--resume ")[-1].strip()
    assert err.strip().endswith(f"Resume with: driftloop run --config {path} --resume {run_id}")
    run_status, steps = status_of(config, run_id)
    assert run_status == "failed" and steps[name] == "failed"
    assert "running" not in steps.values()
    # the same failure through `driftloop step`: the same records, one line, exit 2
    args = ["--config", str(path), "--run-id", "step-run", "--start", MAR[0], "--end", MAR[1]]
    for step in STEPS:
        code, out, err = run_cli("step", step.name, *args)
        if step.name == name:
            break
        assert code == 0, (step.name, out, err)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"error: step {name} of run step-run failed: {type(error).__name__}")
    assert err.strip().endswith(f"driftloop step {name} --config {path} --run-id step-run")
    assert json.loads(out.splitlines()[0])["status"] == "failed"
    run_status, steps = status_of(config, "step-run")
    assert run_status == "failed" and steps[name] == "failed"


def test_a_killed_run_is_marked_interrupted_by_the_next_run_then_resumed(
    make_pipeline, tmp_path
) -> None:
    entry_point, flag, started = held_trainer(tmp_path)
    flag.write_text("1")
    config = make_pipeline(training__entry_point=entry_point)
    path = write_config(config, tmp_path / "driftloop.yaml")
    argv = [sys.executable, "-m", "driftloop", "run", "--config", str(path)]
    proc = subprocess.Popen(
        [*argv, "--start", MAR[0], "--end", MAR[1]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not started.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)  # in the middle of the retrain step
    proc.wait()
    flag.unlink()
    store = RunStore(config.stores.warehouse.get_secret_value())
    killed = store.runs(config.pipeline)[0]["run_id"]
    assert status_of(config, killed) == (
        "running", COMPLETED | {"retrain": "running"} | dict.fromkeys(after("retrain"), "pending")
    )  # fmt: skip
    nxt = subprocess.run(
        [*argv, "--start", "2011-02-01", "--end", "2011-02-28"], capture_output=True, text=True
    )
    assert nxt.returncode == 0, nxt.stderr
    assert f"run {killed} was left running by a process that ended; marked interrupted" in (
        nxt.stdout
    )
    assert status_of(config, killed)[0] == "interrupted"
    assert status_of(config, killed)[1]["retrain"] == "interrupted"
    resumed = subprocess.run([*argv, "--resume", killed], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert status_of(config, killed) == ("succeeded", COMPLETED)
