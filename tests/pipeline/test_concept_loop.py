"""The concept step in the loop: caught where data drift is quiet, triggering alert and retrain."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from driftloop.data.predictions import PredictionStore, concept_series
from driftloop.data.synthetic import bike_sharing
from driftloop.data.warehouse import Warehouse
from driftloop.demo import FEATURES, month
from driftloop.model.bike import train
from driftloop.pipeline.runner import Runner
from driftloop.pipeline.steps import Skipped

SHIFT = dt.date(2012, 6, 1)


@pytest.fixture
def concept_pipeline(make_pipeline, tmp_path):
    data = bike_sharing(concept_shift_from=SHIFT)
    config = make_pipeline(
        columns=FEATURES,
        reference={
            "url": f"sqlite:///{tmp_path / 'warehouse.db'}",
            "table": "history",
            "date_column": "dteday",
            "lag_days": 364,
        },
        concept={"baseline": {"start": "2012-05-01", "end": "2012-05-31"}, "detectors": ["adwin"]},
        on_drift={
            "when": {"dataset_drift": True, "degradation": False, "concept_drift": True},
            "publish": False,
        },
    )
    data.write_csv(tmp_path / "data" / "day.csv")
    warehouse = config.stores.warehouse.get_secret_value()
    Warehouse(warehouse).seed(data.filter(pl.col("yr") == 0), table="history", if_exists="replace")
    trained = data.filter(pl.col("dteday") <= dt.date(2012, 4, 30))
    model = train(trained.to_pandas(), trained["cnt"].to_pandas(), {})
    served = data.filter(pl.col("dteday") >= dt.date(2012, 5, 1))
    store = PredictionStore(warehouse)
    store.log_predictions(
        config.pipeline,
        pl.DataFrame(
            {
                "id": served["dteday"].cast(pl.String),
                "prediction": model.predict(served.to_pandas()),
                "ts": served["dteday"].cast(pl.Datetime),
            }
        ),
    )
    store.log_outcomes(
        config.pipeline,
        pl.DataFrame({"id": served["dteday"].cast(pl.String), "actual": served["cnt"]}),
    )
    return config


def test_concept_drift_fires_alert_and_retrain_while_data_drift_is_quiet(concept_pipeline) -> None:
    alerts: list[str] = []
    runner = Runner(concept_pipeline, printer=alerts.append)
    may = runner.run(start=dt.date(2012, 5, 1), end=dt.date(2012, 5, 31))
    assert may.results["concept"].concept_drift is False  # the baseline period itself
    assert may.results["retrain"] == Skipped("no drift that matters")
    july = runner.run(start=month(2012, 7)[0], end=month(2012, 7)[1])
    assert july.verdict.dataset_drift is False  # features look as they did in July 2011
    concept = july.results["concept"]
    assert concept.concept_drift is True and "rmse" in concept.alerted and concept.pairs == 31
    assert july.results["retrain"].version == 1  # the concept alert triggered retraining
    assert len(alerts) == 1 and alerts[0].startswith(
        "Concept drift in 'bike-sharing' for 2012-07-01 to 2012-07-31"
    )
    assert "*Concept drift*: predictions no longer track outcomes: " in alerts[0]
    series = concept_series(
        PredictionStore(concept_pipeline.stores.warehouse.get_secret_value()),
        concept_pipeline.pipeline,
    )
    assert [s["window_start"] for s in series] == ["2012-05-01", "2012-07-01"]
    html = open(concept.report_html).read()
    assert "Concept drift detected" in html and html.count("<svg") == 3


def test_too_few_pairs_is_a_skip_not_a_failure(concept_pipeline) -> None:
    outcome = Runner(concept_pipeline).run(start=dt.date(2012, 3, 1), end=dt.date(2012, 3, 31))
    assert outcome.status == "succeeded"
    assert outcome.results["concept"] == Skipped(
        "only 0 prediction-outcome pairs in the window (min_pairs 20)"
    )


def test_a_weekly_window_of_daily_pairs_is_pooled_not_skipped(concept_pipeline) -> None:
    # Before: 7 pairs < min_pairs 20, and every weekly run skipped the concept check.
    outcome = Runner(concept_pipeline).run(start=dt.date(2012, 5, 25), end=dt.date(2012, 5, 31))
    concept = outcome.results["concept"]
    assert concept.pooled_from == "2012-05-04"  # the last 28 days up to the window's end
    assert concept.pairs == 28 and concept.concept_drift is False


def test_the_baseline_comes_from_the_model_version_that_served_the_window(
    concept_pipeline,
) -> None:
    store = PredictionStore(concept_pipeline.stores.warehouse.get_secret_value())
    days = [dt.date(2012, 5, d) for d in range(1, 32)]
    ids = [f"v2-{d}" for d in days]
    store.log_predictions(  # a second model version served May too, much worse
        concept_pipeline.pipeline,
        pl.DataFrame(
            {
                "id": ids,
                "prediction": [0.0] * 31,
                "ts": [dt.datetime.combine(d, dt.time(12)) for d in days],
                "model_version": ["2"] * 31,
            }
        ),
    )
    store.log_outcomes(
        concept_pipeline.pipeline, pl.DataFrame({"id": ids, "actual": [5000.0] * 31})
    )
    # May's window names version 2 (the other pairs carry no version): version 2's baseline
    # pairs are its baseline, so its large errors are no news and nothing alerts.
    outcome = Runner(concept_pipeline).run(start=dt.date(2012, 5, 1), end=dt.date(2012, 5, 31))
    concept = outcome.results["concept"]
    assert concept.baseline_model_version == "2" and concept.concept_drift is False
