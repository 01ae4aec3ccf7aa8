"""The exported DAG run by a real Airflow (``airflow dags test``, Airflow in a venv of its own)
through a drift window, against ``driftloop run`` of the same window on a twin setup: the same
warehouse rows (appended once), the same model version registered and promoted, the same alert.

The first run installs Airflow (``scripts/airflow-venv``, ~2 min, cached under
``~/.cache/driftloop-airflow``); after that the test takes ~1.5 min, the loop's own steps most of
it (each task is a ``driftloop step`` process).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.config import load_config
from driftloop.data.sources import filter_window
from driftloop.data.synthetic import bike_sharing
from driftloop.data.warehouse import Warehouse
from driftloop.demo import demo_config, month
from driftloop.pipeline.records import RunStore
from tests.conftest import SlackReceiver

ROOT = Path(__file__).parents[2]
AS_OF = "2011-07-11"  # a Monday: the scheduled run checks the 7 days before it
WINDOW = ("2011-07-04", "2011-07-10")  # summer against a January reference: drift
DRIFTLOOP = str(Path(sys.executable).parent / "driftloop")


@pytest.fixture(scope="module")
def airflow() -> Path:
    """Airflow's own venv (created once by scripts/airflow-venv)."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "airflow-venv")], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return Path(done.stdout.strip().splitlines()[-1])


def _pipeline(root: Path, slack_url: str) -> Path:
    """The demo's pipeline on ``root`` (SQLite warehouse, MLflow sqlite registry, local
    folders; every path absolute), alerting a local Slack-like receiver; reference seeded."""
    raw = demo_config(root)
    raw["alerts"] = {"console": False, "slack": {"webhook_url": slack_url}}
    (root / "data").mkdir(parents=True)
    data = bike_sharing()
    data.write_csv(root / "data" / "day.csv")
    config = root / "driftloop.yaml"
    config.write_text(yaml.safe_dump(raw))
    reference = filter_window(data, "dteday", *month(2011, 1))
    Warehouse(load_config(config).stores.warehouse.get_secret_value()).seed(
        reference, table="reference"
    )
    return config


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without this venv's marks (Airflow's venv must not see driftloop's)."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    return {k: v for k, v in os.environ.items() if k not in drop} | extra


def _airflow_dags_test(venv: Path, dags: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = _clean_env(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
    )
    airflow = str(venv / "bin" / "airflow")
    migrate = subprocess.run(
        [airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    return subprocess.run(
        [airflow, "dags", "test", "driftloop_bike-sharing", AS_OF],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _outcome(config: Path, receiver: SlackReceiver) -> dict[str, Any]:
    """What a run left: its record, the window's rows, the registry's versions, the alerts."""
    from driftloop.model.registry import Registry

    cfg = load_config(config)
    store = RunStore(cfg.stores.warehouse.get_secret_value())
    (summary,) = store.runs(cfg.pipeline)
    record = store.run(summary["run_id"])
    assert record is not None
    rows = Warehouse(cfg.stores.warehouse.get_secret_value()).read("current")
    registry = Registry(cfg.stores.mlflow.get_secret_value(), cfg.stores.mlflow_artifacts)
    versions = registry.versions("bike-demand")
    # the run's id and its report's file name differ; the rest of the alert is the same
    alerts = [
        re.sub(r"run `[^`]+` · report: \S+", "run RUN · report: REPORT", t)
        for t in receiver.texts()
    ]
    return {
        "record": record,
        "rows": rows.sort("dteday"),
        "versions": [(v.version, v.aliases, v.status) for v in versions],
        "production": registry.production_version("bike-demand"),
        "alerts": alerts,
    }


def test_airflow_runs_the_exported_dag_as_driftloop_run_runs_the_loop(
    airflow: Path, tmp_path: Path
) -> None:
    slack_a, slack_b = SlackReceiver(), SlackReceiver()
    try:
        config_a = _pipeline(tmp_path / "airflow", slack_a.url)
        config_b = _pipeline(tmp_path / "run", slack_b.url)
        # the twin: `driftloop run` of the same window, alongside (two cores)
        twin = subprocess.Popen(
            [DRIFTLOOP, "run", "--config", str(config_b), "--start", WINDOW[0], "--end", WINDOW[1]],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        dags = tmp_path / "dags"
        args = ["--config", str(config_a), "-o", str(dags), "--driftloop", DRIFTLOOP]
        exported = CliRunner().invoke(app, ["export", "airflow", *args])
        assert exported.exit_code == 0, exported.output
        started = time.perf_counter()
        done = _airflow_dags_test(airflow, dags, tmp_path / "airflow-home")
        seconds = time.perf_counter() - started
        twin_output, _ = twin.communicate(timeout=300)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        assert twin.returncode == 0, twin_output[-3000:]
        print(f"\nairflow db migrate + dags test of the drift window: {seconds:.1f} s")
        a, b = _outcome(config_a, slack_a), _outcome(config_b, slack_b)
    finally:
        slack_a.close()
        slack_b.close()
    _check_same_outcome(a, b)


def _check_same_outcome(a: dict[str, Any], b: dict[str, Any]) -> None:
    # one driftloop run per DAG run, over the window of the logical date, every step done
    record = a["record"]
    assert record["status"] == "succeeded"
    assert (record["window_start"], record["window_end"]) == WINDOW
    assert record["run_id"].startswith("manual__")  # Airflow's run id, made path-safe
    assert not set(record["run_id"]) & set(":+/")
    # the DAG has no task for a step the config leaves out (concept): it stays pending there
    steps = {s["step"]: s["status"] for s in record["steps"] if s["step"] != "concept"}
    assert steps == {s["step"]: s["status"] for s in b["record"]["steps"] if s["step"] != "concept"}
    assert steps["retrain"] == steps["publish"] == steps["alert"] == "done"
    # the window's rows appended exactly once, the same rows as driftloop run's
    rows: pl.DataFrame = a["rows"]
    assert rows.height == 7 and rows["dteday"].n_unique() == 7
    assert rows.equals(b["rows"])
    # one model version registered and promoted, as driftloop run did
    assert a["versions"] == b["versions"] == [(1, ("production",), "production")]
    assert a["production"] == b["production"] == 1
    # one alert received, with the same text
    assert len(a["alerts"]) == 1 and a["alerts"] == b["alerts"]
    assert "Dataset drift in 'bike-sharing' for 2011-07-04 to 2011-07-10" in a["alerts"][0]
