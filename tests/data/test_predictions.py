"""Predictions and outcomes in the warehouse (PostgreSQL and SQLite): idempotent, joined by window."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from driftloop.data.predictions import PredictionLogger, PredictionStore
from driftloop.errors import DataError


@pytest.fixture(params=["postgres", "sqlite"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'w.db'}"
    return request.getfixturevalue("pg_url")


def test_log_join_and_window(url: str) -> None:
    store = PredictionStore(url)
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(10)]
    with PredictionLogger(url, pipeline="p", model_version="3", batch_size=4) as log:
        for i, day in enumerate(days):
            log.prediction(
                f"id{i}",
                100.0 + i,
                timestamp=dt.datetime.combine(day, dt.time(12)),
                features={"temp": i},
            )
    store.log_outcomes(
        "p", [{"id": f"id{i}", "actual": 90.0 + i} for i in range(8)]
    )  # two still pending
    pairs = store.pairs("p", dt.date(2024, 1, 3), dt.date(2024, 1, 9))
    assert pairs["id"].to_list() == [f"id{i}" for i in range(2, 8)]
    assert pairs["prediction"].to_list() == [102.0 + i for i in range(6)] and set(
        pairs["model_version"]
    ) == {"3"}
    assert store.pairs("other").height == 0


def test_relogging_replaces_never_duplicates(url: str) -> None:
    store = PredictionStore(url)
    rows = pl.DataFrame(
        {"id": ["a", "b"], "prediction": [1.0, 2.0], "ts": [dt.datetime(2024, 1, 1)] * 2}
    )
    store.log_predictions("p", rows)
    store.log_predictions("p", rows.with_columns(pl.col("prediction") * 10))
    store.log_outcomes("p", [{"id": "a", "actual": 5}, {"id": "b", "actual": 6}])
    store.log_outcomes("p", [{"id": "a", "actual": 7}])
    pairs = store.pairs("p")
    assert (
        pairs.height == 2
        and pairs["prediction"].to_list() == [10.0, 20.0]
        and pairs["actual"].to_list() == [7.0, 6.0]
    )


def test_bad_rows(url: str) -> None:
    store = PredictionStore(url)
    with pytest.raises(
        DataError, match=r"^Prediction row 1 needs an 'id' and a 'prediction'\. Got \['id'\]\.$"
    ):
        store.log_predictions("p", [{"id": "a", "prediction": 1}, {"id": "b"}])
    with pytest.raises(
        DataError, match=r"^Duplicate ids in one batch for driftloop_outcomes \(e\.g\. 'a'\)\.$"
    ):
        store.log_outcomes("p", [{"id": "a", "actual": 1}, {"id": "a", "actual": 2}])
    assert store.pairs("p").height == 0  # nothing half-written


def test_cli_loads_prediction_and_outcome_files(make_pipeline, tmp_path) -> None:
    from typer.testing import CliRunner

    from driftloop.cli import app
    from tests.pipeline.conftest import write_config

    config = make_pipeline()
    path = write_config(config, tmp_path / "driftloop.yaml")
    pl.DataFrame(
        {
            "request": ["r1", "r2", "r3"],
            "yhat": [1.5, 2.5, 3.5],
            "ts": [dt.datetime(2024, 1, d) for d in (1, 2, 3)],
            "version": ["4", "4", "4"],
        }
    ).write_csv(tmp_path / "predictions.csv")
    pl.DataFrame({"request": ["r1", "r3"], "y": [1.0, 3.0]}).write_parquet(
        tmp_path / "outcomes.parquet"
    )
    runner = CliRunner()
    loaded = runner.invoke(
        app,
        [
            "feedback",
            "predictions",
            str(tmp_path / "predictions.csv"),
            "--config",
            str(path),
            "--id-column",
            "request",
            "--prediction-column",
            "yhat",
            "--model-version-column",
            "version",
        ],
    )
    assert loaded.exit_code == 0 and "recorded 3 predictions for 'bike-sharing'" in loaded.output
    outcomes = runner.invoke(
        app,
        [
            "feedback",
            "outcomes",
            str(tmp_path / "outcomes.parquet"),
            "--config",
            str(path),
            "--id-column",
            "request",
            "--actual-column",
            "y",
        ],
    )
    assert outcomes.exit_code == 0, outcomes.output
    pairs = PredictionStore(config.stores.warehouse.get_secret_value()).pairs("bike-sharing")
    assert pairs["id"].to_list() == ["r1", "r3"] and pairs["model_version"].to_list() == ["4", "4"]
    bad = runner.invoke(
        app, ["feedback", "outcomes", str(tmp_path / "outcomes.parquet"), "--config", str(path)]
    )
    assert (
        bad.exit_code == 2
        and "Column 'id' is not in" in bad.output
        and "--...-column option" in bad.output
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [{"id": "a", "prediction": 1.0}, {"id": "b", "prediction": "n/a"}],
            r"^Prediction row 1 \(id 'b'\): 'prediction' must be a finite number\. Got 'n/a'\. Fix the value or drop the row\.$",
        ),
        (
            [{"id": "a", "prediction": 1.0, "ts": "yesterday"}],
            r"^Prediction row 0 \(id 'a'\): 'ts' must be a date or date-time like 2012-06-01 or 2012-06-01T11:00:00\. Got 'yesterday'\.$",
        ),
        (
            [{"id": "a", "prediction": float("inf")}],
            r"^Prediction row 0 \(id 'a'\): 'prediction' must be a finite number\. Got inf\.",
        ),
    ],
    ids=["text-prediction", "text-timestamp", "infinite"],
)
def test_bad_values_are_one_line_and_nothing_is_written(url: str, rows, message) -> None:
    store = PredictionStore(url)
    with pytest.raises(DataError, match=message):
        store.log_predictions("p", rows)
    with pytest.raises(
        DataError,
        match=r"^Outcome row 0 \(id 'a'\): 'actual' must be a finite number\. Got 'high'\.",
    ):
        store.log_outcomes("p", [{"id": "a", "actual": "high"}])
    assert store.pairs("p").height == 0


def test_iso_timestamps_are_stored_as_times(url: str) -> None:
    store = PredictionStore(url)
    store.log_predictions("p", [{"id": "a", "prediction": 1.0, "ts": "2012-06-01T11:30:00+02:00"}])
    store.log_outcomes("p", [{"id": "a", "actual": 2.0}])
    assert store.pairs("p")["ts"].to_list() == [dt.datetime(2012, 6, 1, 9, 30)]
