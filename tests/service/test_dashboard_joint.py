"""Multivariate and segment drift on the dashboard, in a real browser (Debian's Chromium driven by
Playwright): the pipeline page's panels and the run page show what each run's report says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from playwright.sync_api import Page, expect

from driftloop.config import load_config
from driftloop.data.sources import filter_window
from driftloop.data.warehouse import Warehouse
from driftloop.demo import demo_config, month
from driftloop.drift.results import MultivariateDrift
from driftloop.pipeline.backfill import backfill
from driftloop.report.format import fmt_number
from tests.pipeline.conftest import write_config
from tests.service.conftest import READ_TOKEN, Dashboard, bikes, running_ui
from tests.service.test_dashboard_browser import browser, page, sign_in

__all__ = ["bikes", "browser", "page"]

MONTHS = [month(2011, m) for m in range(2, 8)]  # February has 28 days: too few for a classifier


@pytest.fixture(scope="module")
def joint(tmp_path_factory: pytest.TempPathFactory, bikes: pl.DataFrame) -> Iterator[Dashboard]:
    """``driftloop ui`` over six monthly windows judged with multivariate and segment checks."""
    tmp = tmp_path_factory.mktemp("joint")
    raw = demo_config(tmp)
    (tmp / "data").mkdir()
    bikes.write_csv(tmp / "data" / "day.csv")
    raw["dashboard"] = {"token": READ_TOKEN}
    raw["on_drift"] = {"retrain": False, "alert": False}
    raw["detection"]["multivariate"] = {
        "methods": ["domain_classifier", "pca_reconstruction"],
        "columns": ["temp", "atemp", "hum", "windspeed"],
        "permutations": 99,
    }
    raw["detection"]["segments"] = [{"column": "workingday", "min_rows": 9}]
    config = load_config(raw)
    reference = filter_window(bikes, "dteday", *month(2011, 1))
    Warehouse(config.stores.warehouse.get_secret_value()).seed(
        reference, table="reference", if_exists="replace"
    )
    backfill(config, MONTHS, printer=lambda _: None)
    path = write_config(config, tmp / "driftloop.yaml")
    with running_ui(path, tmp / "ui.log") as url:
        yield Dashboard(url, READ_TOKEN, config, path, MONTHS, "")


def reports(dashboard: Dashboard) -> dict[str, dict[str, Any]]:
    """Each window's JSON report, by window start, through the history API's run ids."""
    history = httpx.get(
        f"{dashboard.url}/api/pipelines/bike-sharing/history", headers=dashboard.auth
    ).json()
    folder = Path(dashboard.config.stores.reports) / "bike-sharing"
    found = {}
    for w in history["windows"]:
        (path,) = folder.glob(f"*_{w['run_id']}.json")
        found[w["start"]] = {"run_id": w["run_id"], **json.loads(path.read_text())}
    return found


def test_the_pipeline_page_shows_each_method_and_the_segment_findings(
    page: Page, joint: Dashboard, tmp_path: Path
) -> None:
    by_window = reports(joint)
    assert list(by_window) == [str(start) for start, _ in MONTHS]
    sign_in(page, joint, tmp_path)
    page.goto(joint.url + "/ui/pipelines/bike-sharing")
    page.screenshot(path=str(tmp_path / "pipeline-joint.png"), full_page=True)
    expect(page.locator("#multivariate")).to_have_text("Multivariate drift")
    for method in ("domain_classifier", "pca_reconstruction"):
        chart = page.locator(f'svg.chart[aria-label^="{method}: statistic against"]')
        expect(chart).to_have_count(1)
        expected = [
            (start, fmt_number(m["statistic"]), fmt_number(m["threshold"]))
            for start, r in reversed(by_window.items())
            for m in r["multivariate"]
            if m["method"] == method and (m["drifted"] or m["skipped"])
        ]
        rows = page.locator(f'table.multivariate[data-method="{method}"] tr:has(td)')
        shown = [
            (
                (rows.nth(i).locator("td").nth(0).text_content() or "")[:10],
                rows.nth(i).locator("td").nth(1).text_content(),
                rows.nth(i).locator("td").nth(2).text_content(),
            )
            for i in range(rows.count())
        ]
        assert shown == expected
    # February's 28 days are too few for the classifier: shown as skipped, with the reason
    (february,) = [
        m for m in by_window["2011-02-01"]["multivariate"] if m["method"] == "domain_classifier"
    ]
    assert february["skipped"]
    expect(page.locator('table.multivariate[data-method="domain_classifier"]')).to_contain_text(
        "skipped: " + february["skipped"]
    )
    drifted = [m for r in by_window.values() for m in r["multivariate"] if m["drifted"]]
    assert drifted, "the summer months should drift from January across columns"
    findings = [
        f"{c['name']} drifted where workingday = {s['value']}"
        for r in reversed(by_window.values())
        for s in r["segments"]
        for c in s["columns"]
        if c["drifted"]
    ]
    assert findings, "some segment of some month should drift from January"
    table = page.locator("#segment-findings")
    for line in findings:
        expect(table).to_contain_text(line)
    skipped = sum(1 for r in by_window.values() for s in r["segments"] if s["skipped"])
    assert table.locator("text=skipped:").count() == skipped


def test_the_run_page_lists_the_runs_multivariate_and_segment_results(
    page: Page, joint: Dashboard, tmp_path: Path
) -> None:
    start, report = next(
        (s, r) for s, r in reports(joint).items() if any(m["drifted"] for m in r["multivariate"])
    )
    sign_in(page, joint, tmp_path)
    page.goto(joint.url + "/ui/pipelines/bike-sharing")
    page.locator(f'#multivariate ~ table a:text-matches("^{start}")').first.click()
    expect(page.locator("h1")).to_have_text(f"Run {report['run_id']}")
    page.screenshot(path=str(tmp_path / "run-joint.png"), full_page=True)
    rows = page.locator("#run-multivariate tr:has(td)")
    methods = sorted(report["multivariate"], key=lambda m: m["method"])
    assert rows.count() == len(methods) == 2
    for i, m in enumerate(methods):
        cells = rows.nth(i).locator("td")
        assert cells.nth(0).text_content() == m["method"]
        assert cells.nth(1).text_content() == fmt_number(m["statistic"])
        assert cells.nth(5).text_content() == (", ".join(m["top_features"]) or "-")
        if m["drifted"]:  # the alert's words, from the report itself
            finding = MultivariateDrift.from_dict(m).finding
            assert cells.nth(4).text_content() == f"drift: {finding}"
    segments = page.locator("#run-segments tr:has(td)")
    assert segments.count() == len(report["segments"]) == 2
    for i, s in enumerate(sorted(report["segments"], key=lambda s: str(s["value"]))):
        cells = segments.nth(i).locator("td")
        assert cells.nth(0).text_content() == f"workingday = {s['value']}"
        assert cells.nth(1).text_content() == f"{s['n_reference']} / {s['n_current']}"
        drifted = [c["name"] for c in s["columns"] if c["drifted"]]
        for name in drifted:
            expect(cells.nth(3)).to_contain_text(f"{name} drifted where workingday = {s['value']}")
        if not drifted and not s["skipped"]:
            assert cells.nth(3).text_content() == "no drift"
