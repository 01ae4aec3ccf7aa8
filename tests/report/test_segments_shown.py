"""Segment findings named in Markdown, HTML, the alert, and the on_drift.when reasons."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import driftloop
from driftloop.actions.notify import build_alert
from driftloop.config import TriggerConfig
from driftloop.drift.results import DriftReport
from driftloop.pipeline.steps.detect import reasons_to_fire
from driftloop.report.html import render_html


@pytest.fixture(scope="module")
def report() -> DriftReport:
    """windspeed moved only where workingday = 0 (strongly: the finding is certain)."""
    rng = np.random.default_rng(5)
    day = np.repeat([0, 1], 300)
    ref = pl.DataFrame({"workingday": day, "windspeed": rng.normal(size=600)})
    wind = rng.normal(size=600) + np.where(day == 0, 1.5, 0.0)
    cur = pl.DataFrame({"workingday": day, "windspeed": wind})
    cfg = {"segments": [{"column": "workingday"}], "drift_share": 1.0}
    return driftloop.detect(ref, cur, columns=["windspeed"], config=cfg)


def test_markdown_and_html_name_the_segment(report: DriftReport) -> None:
    assert "windspeed drifted where workingday = 0" in report.to_markdown()
    html = render_html(report)
    assert '<table id="segments">' in html
    assert "windspeed drifted where workingday = 0" in html
    assert "workingday = 1" in html


def test_the_alert_names_the_segment(report: DriftReport) -> None:
    alert = build_alert("bikes", "r1", ("2012-01-01", "2012-01-31"), report)
    assert "• `windspeed` drifted where `workingday = 0`" in alert.text
    assert "workingday" in alert.fingerprint


@pytest.mark.parametrize(
    ("segments", "fires"),
    [(False, False), (True, True), (["workingday"], True), (["season"], False)],
    ids=["off", "on", "named", "other-column"],
)
def test_on_drift_when_segments_fires_the_loop(
    report: DriftReport, segments: bool | list[str], fires: bool
) -> None:
    when = TriggerConfig(dataset_drift=False, degradation=False, segments=segments)
    reasons = reasons_to_fire(report, when)
    assert ("windspeed drifted where workingday = 0" in reasons) is fires
