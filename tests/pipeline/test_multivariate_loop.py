"""Multivariate drift in the loop: it fires ``on_drift``, and the alert and reports name it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

import driftloop
from driftloop.actions.notify import build_alert
from driftloop.config import TriggerConfig
from driftloop.data.sources import filter_window
from driftloop.data.warehouse import Warehouse
from driftloop.drift.results import DriftReport
from driftloop.pipeline.runner import Runner
from driftloop.pipeline.steps.detect import reasons_to_fire
from driftloop.report.html import render_html
from driftloop.report.markdown import render_markdown

WINDOW = ("2012-03-01", "2012-03-31")


def days(rng: np.random.Generator, n: int = 365) -> pl.DataFrame:
    temp = rng.normal(size=n)
    atemp = 0.99 * temp + np.sqrt(1 - 0.99**2) * rng.normal(size=n)
    return pl.DataFrame({"temp": temp, "atemp": atemp, "hum": rng.beta(5, 3, size=n)})


@pytest.fixture(scope="module")
def broken() -> DriftReport:
    """``atemp`` shuffled in the current window: no column drifts, the pair does."""
    rng = np.random.default_rng(11)
    cur = days(rng)
    cur = cur.with_columns(pl.Series("atemp", rng.permutation(cur["atemp"].to_numpy())))
    return driftloop.detect(days(rng), cur, config={"multivariate": {"permutations": 99}})


def test_multivariate_drift_fires_the_loop_unless_switched_off(broken: DriftReport) -> None:
    assert not broken.dataset_drift and not broken.degradation and broken.multivariate_drift
    reasons = reasons_to_fire(broken, TriggerConfig())
    assert reasons == ("multivariate drift (domain_classifier, pca_reconstruction)",)
    assert reasons_to_fire(broken, TriggerConfig(multivariate=False)) == ()


def test_a_report_without_multivariate_settings_never_fires_for_it() -> None:
    rng = np.random.default_rng(12)
    report = driftloop.detect(days(rng), days(rng))
    assert report.multivariate == () and reasons_to_fire(report, TriggerConfig()) == ()


def test_the_alert_names_the_pair(broken: DriftReport) -> None:
    alert = build_alert("bikes", "run-1", WINDOW, broken)
    assert alert.text.startswith("Multivariate drift in 'bikes'")
    lines = [line for line in alert.text.splitlines() if "rows no longer agree on" in line]
    assert len(lines) == 2 and all("temp" in x and "atemp" in x for x in lines)
    assert any(b.get("text", {}).get("text", "").startswith("*Multivariate drift*")
               for b in alert.blocks)  # fmt: skip
    assert {m["method"] for m in alert.payload["multivariate"]} == {
        "domain_classifier",
        "pca_reconstruction",
    }


def test_an_alert_without_multivariate_findings_keeps_its_fingerprint() -> None:
    rng = np.random.default_rng(13)
    ref, cur = days(rng), days(rng).with_columns(pl.col("hum") + 0.3)
    plain = driftloop.detect(ref, cur)
    old = plain.to_dict()
    del old["multivariate"]  # a report from before schema 1.2
    first = build_alert("bikes", "run-1", WINDOW, DriftReport.from_dict(old))
    second = build_alert("bikes", "run-1", WINDOW, plain)
    assert first.fingerprint == second.fingerprint


def test_markdown_and_html_show_the_multivariate_panel(broken: DriftReport) -> None:
    markdown = render_markdown(broken)
    assert "domain_classifier = " in markdown and "*Multivariate drift*, rows no longer" in markdown
    html = render_html(broken)
    assert 'id="multivariate"' in html and html.count("rows no longer agree on") == 2
    assert 'data-method="pca_reconstruction"' in html


def test_a_broken_join_fires_the_loop_through_the_runner(make_pipeline, bikes, tmp_path) -> None:
    """The whole loop on a window whose atemp values were mis-keyed: no column drifts."""
    year = (dt.date(2011, 1, 1), dt.date(2011, 12, 31))
    config = make_pipeline(
        seed=False,
        on_drift={"retrain": False, "publish": False},
        detection={"multivariate": {"permutations": 99}},
    )
    days_2011 = filter_window(bikes, "dteday", *year)
    Warehouse(config.stores.warehouse.get_secret_value()).seed(
        days_2011, table="reference", if_exists="replace"
    )
    rng = np.random.default_rng(14)
    atemp = rng.permutation(days_2011["atemp"].to_numpy())
    rest = bikes["atemp"].to_numpy()[days_2011.height :]  # the data start on 2011-01-01
    broken = bikes.with_columns(pl.Series("atemp", np.concatenate([atemp, rest])))
    broken.write_csv(tmp_path / "data" / "day.csv")
    detected = Runner(config).run(start=year[0], end=year[1]).results["detect"]
    assert not detected.dataset_drift and detected.drifted == ()
    assert detected.fires
    assert detected.reasons == ("multivariate drift (domain_classifier, pca_reconstruction)",)
