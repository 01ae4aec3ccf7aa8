"""Embedding and text findings named in Markdown, HTML, the alert, and on_drift.when."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import driftloop
from driftloop.actions.notify import build_alert
from driftloop.config import TriggerConfig
from driftloop.data.synthetic_text import tickets
from driftloop.drift.results import DriftReport
from driftloop.pipeline.steps.detect import reasons_to_fire
from driftloop.report.html import render_html


@pytest.fixture(scope="module")
def report() -> DriftReport:
    """Dimension 5 of the embedding moved; the tickets' topic mix and length changed."""
    rng = np.random.default_rng(2)
    ref_vectors, cur_vectors = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    cur_vectors[:, 5] += 1.0
    ref_text, _ = tickets(300, seed=0)
    cur_text, _ = tickets(300, (0.6, 0.1, 0.1, 0.1, 0.1), seed=1)
    cur_text = [t + " <!here> " + t for t in cur_text]
    ref = pd.DataFrame({"e": list(ref_vectors), "t": ref_text, "x": rng.normal(size=300)})
    cur = pd.DataFrame({"e": list(cur_vectors), "t": cur_text, "x": rng.normal(size=300)})
    return driftloop.detect(ref, cur)


def test_markdown_names_what_moved(report: DriftReport) -> None:
    text = report.to_markdown()
    assert "• `e` (embedding): mmd = " in text
    assert "moved most: `dim 5` +" in text
    assert "descriptors: length " in text


def test_html_shows_the_moved_parts_and_descriptors(report: DriftReport) -> None:
    html = render_html(report)
    assert 'data-moved="e"' in html and 'data-moved="t"' in html
    assert "<code>dim 5</code>" in html
    assert 'data-descriptor="length"' in html
    assert "<!here>" not in html  # n-grams are user data: escaped


def test_the_alert_names_what_moved_escaped(report: DriftReport) -> None:
    alert = build_alert("tickets", "r1", ("2026-01-01", "2026-01-31"), report)
    assert "moved most: `dim 5`" in alert.text
    assert "descriptors: length" in alert.text
    assert "<!here>" not in alert.text
    assert alert.payload["moved"]["e"][0] == "dim 5"


def test_the_alert_of_a_tabular_report_keeps_its_payload_shape() -> None:
    rng = np.random.default_rng(0)
    ref, cur = (pl.DataFrame({"x": rng.normal(m, size=300)}) for m in (0.0, 1.0))
    alert = build_alert("p", "r", ("a", "b"), driftloop.detect(ref, cur))
    assert "moved" not in alert.payload and "moved most" not in alert.text


@pytest.mark.parametrize(("features", "fires"), [(["e"], True), (["t"], True), (["x"], False)])
def test_on_drift_when_features_fires_on_an_embedding_or_text_column(
    report: DriftReport, features: list[str], fires: bool
) -> None:
    when = TriggerConfig(dataset_drift=False, degradation=False, features=features)
    assert bool(reasons_to_fire(report, when)) is fires


def test_the_support_tickets_example_finds_the_topic_shift(tmp_path, capsys) -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "examples" / "support_tickets" / "detect_tickets.py"
    spec = importlib.util.spec_from_file_location("detect_tickets", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.main(tmp_path)
    assert {c.name: c.drifted for c in report.columns} == {"body": True, "embedding": True}
    assert "moved most" in capsys.readouterr().out
    assert (tmp_path / "tickets.html").stat().st_size > 1000
