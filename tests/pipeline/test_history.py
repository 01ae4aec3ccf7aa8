"""History written by the detect step and imported from report folders, through real runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.demo import month
from driftloop.errors import ConfigError
from driftloop.history.reports import import_reports
from driftloop.history.store import HistoryStore
from driftloop.pipeline.runner import Runner
from tests.pipeline.conftest import write_config

FEB, MAR = month(2011, 2), month(2011, 3)
QUIET = {"on_drift": {"retrain": False, "alert": False}}


def test_the_detect_step_writes_the_window_s_history(make_pipeline) -> None:
    config = make_pipeline(**QUIET)
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    store = HistoryStore(config.stores.warehouse.get_secret_value())
    (window,) = store.history("bike-sharing")["windows"]
    report = json.loads(Path(outcome.results["detect"].report_json).read_text())
    assert (window["start"], window["end"], window["run_id"]) == (
        "2011-03-01",
        "2011-03-31",
        outcome.run_id,
    )
    assert window["dataset_drift"] is report["dataset_drift"] is True
    assert window["share_drifted"] == report["share_drifted"]
    assert window["features"] == {
        c["name"]: {k: c[k] for k in ("method", "statistic", "p_value", "threshold", "drifted")}
        for c in report["columns"]
    }
    assert all(r["null_share"] == 0.0 for r in store.features("bike-sharing"))


def test_a_re_run_of_a_window_supersedes_the_earlier_one(make_pipeline) -> None:
    config = make_pipeline(**QUIET)
    first = Runner(config).run(start=FEB[0], end=FEB[1])
    second = Runner(config).run(start=FEB[0], end=FEB[1])
    store = HistoryStore(config.stores.warehouse.get_secret_value())
    assert [w["run_id"] for w in store.history("bike-sharing")["windows"]] == [second.run_id]
    every = store.windows("bike-sharing", superseded=True)
    assert [(w["run_id"], w["superseded"]) for w in every] == [
        (first.run_id, True),
        (second.run_id, False),
    ]


def test_importing_a_report_folder_rebuilds_the_history(make_pipeline, tmp_path: Path) -> None:
    config = make_pipeline(**QUIET)
    for window in (FEB, MAR):
        Runner(config).run(start=window[0], end=window[1])
    live = HistoryStore(config.stores.warehouse.get_secret_value()).history("bike-sharing")
    folder = Path(config.stores.reports) / "bike-sharing"
    (folder / "notes.json").write_text("{}")  # not a report's name: ignored
    fresh = HistoryStore(f"sqlite:///{tmp_path / 'fresh.db'}")
    result = import_reports(fresh, "bike-sharing", folder)
    assert (result.imported, result.already, result.ignored) == (2, 0, ("notes.json",))
    assert fresh.history("bike-sharing") == live
    assert {w["source"] for w in fresh.windows("bike-sharing")} == {"import"}
    again = import_reports(fresh, "bike-sharing", folder)
    assert (again.imported, again.already) == (0, 2)


def test_a_broken_report_stops_the_import_before_anything_is_written(
    make_pipeline, tmp_path: Path
) -> None:
    config = make_pipeline(**QUIET)
    Runner(config).run(start=FEB[0], end=FEB[1])
    folder = Path(config.stores.reports) / "bike-sharing"
    broken = folder / "2011-03-01_2011-03-31_20260101T000000-abcdef12.json"
    broken.write_text('{"dataset_drift": true')
    fresh = HistoryStore(f"sqlite:///{tmp_path / 'fresh.db'}")
    with pytest.raises(ConfigError, match=r"2011-03-01_2011-03-31_.*is not readable JSON"):
        import_reports(fresh, "bike-sharing", folder)
    assert fresh.run_ids("bike-sharing") == set()
    broken.write_text('{"dataset_drift": true}')
    with pytest.raises(ConfigError, match="is not a driftloop drift report: it has no drift_share"):
        import_reports(fresh, "bike-sharing", folder)


def test_history_import_on_the_command_line(make_pipeline, tmp_path: Path) -> None:
    config = make_pipeline(**QUIET)
    Runner(config).run(start=FEB[0], end=FEB[1])
    path = write_config(config, tmp_path / "driftloop.yaml")
    folder = Path(config.stores.reports) / "bike-sharing"
    cli = CliRunner()
    done = cli.invoke(app, ["history", "import", "--config", str(path), str(folder)])
    assert done.exit_code == 0, done.output
    assert "0 runs imported, 1 already in the history" in done.output
    missing = cli.invoke(app, ["history", "import", "--config", str(path), str(tmp_path / "no")])
    assert missing.exit_code == 2
    assert missing.output.strip().splitlines() == [
        f"error: Report folder '{tmp_path / 'no'}' does not exist or is not a folder. Pass the "
        "folder holding the pipeline's START_END_RUNID.json reports (stores.reports/PIPELINE)."
    ]


def test_multivariate_and_segment_results_reach_the_history_and_its_import(
    make_pipeline, tmp_path: Path
) -> None:
    detection = {
        "columns": {"season": {"kind": "categorical"}, "weathersit": {"kind": "categorical"}},
        "multivariate": {"columns": ["temp", "atemp", "hum", "windspeed"], "permutations": 49},
        "segments": [{"column": "workingday", "min_rows": 9}],
    }
    config = make_pipeline(detection=detection, **QUIET)
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    report = json.loads(Path(outcome.results["detect"].report_json).read_text())
    store = HistoryStore(config.stores.warehouse.get_secret_value())
    (window,) = store.history("bike-sharing")["windows"]
    assert window["multivariate"] == {
        m["method"]: {
            k: m[k]
            for k in ("statistic", "threshold", "p_value", "drifted", "top_features", "skipped")
        }
        for m in report["multivariate"]
    }
    assert [
        (s["column"], s["value"], s["n_current"], s["drifted"]) for s in window["segments"]
    ] == [
        (
            s["column"],
            str(s["value"]),
            s["n_current"],
            [c["name"] for c in s["columns"] if c["drifted"]],
        )
        for s in report["segments"]
    ]
    assert sum(s["n_current"] for s in window["segments"]) == 31
    fresh = HistoryStore(f"sqlite:///{tmp_path / 'fresh.db'}")
    import_reports(fresh, "bike-sharing", Path(config.stores.reports) / "bike-sharing")
    assert fresh.history("bike-sharing") == store.history("bike-sharing")
