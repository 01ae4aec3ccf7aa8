"""The dashboard in a real browser (Debian's Chromium driven by Playwright): sign in, read the
heatmap, follow the links from the overview to a run's report. Screenshots go to the test's
tmp folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from driftloop.pipeline.steps import STEPS
from driftloop.report.format import fmt_number
from tests.service.conftest import Dashboard

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).is_file(), "Chromium is missing: run scripts/setup (as root)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def sign_in(page: Page, dashboard: Dashboard, tmp_path: Path) -> None:
    page.goto(dashboard.url + "/ui/")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.screenshot(path=str(tmp_path / "login.png"))
    page.fill("input[name=token]", dashboard.token)
    page.click("button")
    expect(page.locator("h1")).to_have_text("Pipelines")


def test_without_the_token_the_browser_gets_401(page: Page, dashboard: Dashboard) -> None:
    for path in ("/ui/", "/ui/pipelines/bike-sharing", "/api/pipelines/bike-sharing/history"):
        response = page.goto(dashboard.url + path)
        assert response is not None and response.status == 401, path
    page.goto(dashboard.url + "/ui/")
    page.fill("input[name=token]", "not-the-token")
    page.click("button")
    expect(page.locator("p.yes")).to_have_text("Wrong token.")


def test_the_heatmap_shows_every_window_and_feature_with_its_values(
    page: Page, dashboard: Dashboard, tmp_path: Path
) -> None:
    sign_in(page, dashboard, tmp_path)
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
    page.click("#pipelines a >> text=bike-sharing")
    expect(page.locator("h1")).to_have_text("bike-sharing")
    page.screenshot(path=str(tmp_path / "pipeline.png"), full_page=True)
    cells = page.locator("svg.heatmap rect.cell[data-feature]")
    latest = _report(dashboard, page.locator("svg.heatmap rect.cell").last)
    features = sorted(c["name"] for c in latest["columns"])
    assert cells.count() == 24 * len(features)
    columns = page.eval_on_selector_all(
        "svg.heatmap rect.cell[data-feature]",
        "cells => [...new Set(cells.map(c => c.dataset.window))]",
    )
    assert columns == [str(start) for start, _ in dashboard.windows]
    start, end = dashboard.windows[5]
    cell = page.locator(f'svg.heatmap rect.cell[data-feature="hum"][data-window="{start}"]')
    hum = next(c for c in _report(dashboard, cell)["columns"] if c["name"] == "hum")
    tooltip = cell.locator("title").text_content()
    assert tooltip is not None and tooltip.startswith(
        f"hum, {start}..{end}: {hum['method']} statistic {fmt_number(hum['statistic'])}, p-value "
    )
    page.click('svg.heatmap a:has(text:text-is("hum"))')
    expect(page.locator("h1")).to_have_text("hum")
    assert page.locator("#windows tr").count() == 1 + 24
    page.screenshot(path=str(tmp_path / "feature.png"), full_page=True)
    assert (tmp_path / "pipeline.png").stat().st_size > 10_000


def _report(dashboard: Dashboard, cell: Any) -> dict[str, Any]:
    """The JSON report of the window a heatmap cell belongs to (through the history API)."""
    window = cell.get_attribute("data-window")
    history = json.loads(
        cell.page.request.get(
            f"{dashboard.url}/api/pipelines/bike-sharing/history?from={window}&to={window}"
        ).text()
    )
    run_id = history["windows"][0]["run_id"]
    folder = Path(dashboard.config.stores.reports) / "bike-sharing"
    (path,) = folder.glob(f"*_{run_id}.json")
    return dict(json.loads(path.read_text()))


def test_from_the_overview_to_a_run_and_its_report(
    page: Page, dashboard: Dashboard, tmp_path: Path
) -> None:
    sign_in(page, dashboard, tmp_path)
    page.click("#pipelines a >> text=bike-sharing")
    page.click(f'#models a[href="/ui/runs/{dashboard.model_run}"]')
    expect(page.locator("h1")).to_have_text(f"Run {dashboard.model_run}")
    assert page.locator("#steps tr").count() == 1 + len(STEPS)  # a header, then each step
    expect(page.locator("body")).to_contain_text("v1 promoted to production")
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
    page.click("#report")
    expect(page).to_have_url(f"{dashboard.url}/ui/runs/{dashboard.model_run}/report")
    expect(page.locator("h1")).to_contain_text("bike-sharing")
    page.screenshot(path=str(tmp_path / "report.png"))
