"""The Airflow DAG file from the config: it parses, runs the step table in order, maps retries,
takes its window from the logical date, and refuses stores its tasks would not share."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.config import load_config
from driftloop.export.airflow import export_airflow
from driftloop.pipeline.steps import STEPS


def _raw(root: Path, **overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "pipeline": "bike-sharing",
        "reference": {"uri": str(root / "day.csv")},
        "current": {"uri": str(root / "day.csv"), "date_column": "dteday"},
        "on_drift": {"retrain": False},
        "schedule": {"cron": "0 11 * * MON", "timezone": "Europe/Paris", "window_days": 7},
        "orchestrator": {"retries": 4, "retry_delay_seconds": 45, "max_retry_delay_seconds": 900},
        "stores": {
            "runs": str(root / "runs"),
            "artifacts": "s3://models/bikes",
            "mlflow_artifacts": str(root / "mlartifacts"),
            "reports": str(root / "reports"),
            "warehouse": f"sqlite:///{root / 'warehouse.db'}",
            "mlflow": f"sqlite:///{root / 'mlflow.db'}",
        },
    }
    raw.update(overrides)
    return raw


def _export(tmp_path: Path, raw: dict[str, Any]) -> tuple[Path, ast.Module]:
    path = tmp_path / "driftloop.yaml"
    path.write_text(yaml.safe_dump(raw))
    dag, copied, *_ = export_airflow(
        path, load_config(path), tmp_path / "dags", "/opt/dl/driftloop"
    )
    assert copied.read_text() == path.read_text()  # the config travels next to the DAG
    return dag, ast.parse(dag.read_text(), filename=str(dag))


def _operators(tree: ast.Module) -> dict[str, dict[str, Any]]:
    """task_id -> the BashOperator's keyword arguments (literals evaluated, names as names)."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "BashOperator":
            kwargs = {
                k.arg: ast.literal_eval(k.value) if isinstance(k.value, ast.Constant) else k.value
                for k in node.keywords
            }
            found[kwargs["task_id"]] = kwargs
    return found


def _chain(tree: ast.Module) -> list[str]:
    (expr,) = [
        n for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.BinOp)
    ]
    names = []
    node: ast.expr = expr.value
    while isinstance(node, ast.BinOp):
        assert isinstance(node.op, ast.RShift) and isinstance(node.right, ast.Name)
        names.append(node.right.id)
        node = node.left
    assert isinstance(node, ast.Name)
    return [node.id, *reversed(names)]


def test_the_dag_runs_every_configured_step_in_the_tables_order(tmp_path: Path) -> None:
    _, tree = _export(tmp_path, _raw(tmp_path))
    expected = [s.name for s in STEPS if s.name != "concept"]  # concept is not configured
    assert list(_operators(tree)) == expected
    assert _chain(tree) == expected


def test_each_task_runs_the_step_command_in_the_dag_folder(tmp_path: Path) -> None:
    _, tree = _export(tmp_path, _raw(tmp_path))
    operators = _operators(tree)
    for name, kwargs in operators.items():
        command = kwargs["bash_command"]
        assert command.startswith(
            f'/opt/dl/driftloop step {name} --config driftloop_bike-sharing.yaml --run-id "$DRIFTLOOP_RUN_ID"'
        )
        assert kwargs["cwd"].id == "HERE" and kwargs["append_env"] is True
        assert "{{" not in command  # values come through env, never pasted into the shell
    first, *later = operators.values()
    assert first["env"].id == "WINDOW" and first["bash_command"].endswith(
        '--start "$DRIFTLOOP_START" --end "$DRIFTLOOP_END" --as-of "$DRIFTLOOP_AS_OF"'
    )
    assert all(k["env"].id == "RUN" and "--as-of" not in k["bash_command"] for k in later)
    # the alert says what happened to the model, whatever retrain or publish did
    assert [n for n, k in operators.items() if "trigger_rule" in k] == ["alert"]
    assert operators["alert"]["trigger_rule"] == "all_done"


def _assigned(tree: ast.Module, name: str) -> ast.expr:
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name:
            return node.value
    raise AssertionError(name)


def test_the_window_comes_from_the_logical_date_in_the_schedules_zone(tmp_path: Path) -> None:
    _, tree = _export(tmp_path, _raw(tmp_path))
    window = _assigned(tree, "WINDOW")
    assert isinstance(window, ast.Dict)
    values = {
        ast.literal_eval(k): ast.literal_eval(v)
        for k, v in zip(window.keys, window.values, strict=True)
        if k is not None
    }
    assert values["DRIFTLOOP_AS_OF"] == (
        "{{ (logical_date or dag_run.run_after).in_timezone('Europe/Paris').strftime('%Y-%m-%d') }}"
    )
    assert "data_interval" not in ast.unparse(tree)  # empty under `dags test`: the FACTS trap
    assert values["DRIFTLOOP_START"] == "{{ params.start }}"
    run = ast.literal_eval(_assigned(tree, "RUN"))
    assert run == {"DRIFTLOOP_RUN_ID": "{{ run_id | replace(':', '-') | replace('+', '-') }}"}


def test_retries_and_schedule_come_from_the_config(tmp_path: Path) -> None:
    dag, _ = _export(tmp_path, _raw(tmp_path))
    text = dag.read_text()
    assert '"retries": 4,' in text
    assert '"retry_delay": dt.timedelta(seconds=45),' in text
    assert '"max_retry_delay": dt.timedelta(seconds=900),' in text
    assert "schedule=CronTriggerTimetable('0 11 * * MON', timezone='Europe/Paris')" in text
    raw = _raw(tmp_path)
    del raw["schedule"]
    unscheduled, _ = _export(tmp_path, raw)
    assert "    schedule=None," in unscheduled.read_text()


def test_a_file_trainer_travels_with_the_dag(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("def train(X, y, params): ...\n")
    raw = _raw(
        tmp_path,
        on_drift={},
        training={"entry_point": "train.py:train", "target": "cnt"},
        model={"name": "bike-demand"},
    )
    _export(tmp_path, raw)
    assert (tmp_path / "dags" / "train.py").read_text() == "def train(X, y, params): ...\n"


@pytest.mark.parametrize(
    ("stores", "message"),
    [
        ({"runs": ".driftloop/runs"}, "stores.runs is '.driftloop/runs', not an absolute path"),
        ({"runs": "s3://models/runs"}, "stores.runs is 's3://models/runs', not an absolute path"),
        ({"warehouse": "sqlite:///w.db"}, "stores.warehouse is the SQLite file 'w.db'"),
        ({"mlflow": "sqlite:///.driftloop/m.db"}, "stores.mlflow is the SQLite file"),
        ({"artifacts": "published"}, "stores.artifacts is 'published', not an absolute path"),
    ],
    ids=["relative-runs", "s3-runs", "relative-warehouse", "relative-mlflow", "relative-artifacts"],
)
def test_cli_refuses_stores_its_tasks_would_not_share(
    tmp_path: Path, stores: dict[str, str], message: str
) -> None:
    raw = _raw(tmp_path)
    raw["stores"].update(stores)
    config = tmp_path / "driftloop.yaml"
    config.write_text(yaml.safe_dump(raw))
    out = tmp_path / "dags"
    result = CliRunner().invoke(app, ["export", "airflow", "--config", str(config), "-o", str(out)])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert message in line and "Airflow task" in line
    assert not out.exists()  # nothing written


def test_cli_export_defaults_to_this_driftloop(tmp_path: Path) -> None:
    import sys

    config = tmp_path / "driftloop.yaml"
    config.write_text(yaml.safe_dump(_raw(tmp_path)))
    out = tmp_path / "dags"
    result = CliRunner().invoke(app, ["export", "airflow", "--config", str(config), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = (out / "driftloop_bike-sharing.py").read_text()
    assert f"'{Path(sys.executable).parent / 'driftloop'} step fetch_reference" in text
