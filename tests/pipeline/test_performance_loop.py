"""The loop acts on impact: the production classifier's performance, estimated from its scores
before labels arrive (realized once they have), is part of the window's verdict."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from driftloop.config import load_config
from driftloop.data.synthetic_hours import busy_hours
from driftloop.data.warehouse import Warehouse
from driftloop.demo import demo_config, month
from driftloop.demo_performance import performance_config
from driftloop.drift.results import DriftReport
from driftloop.model.lifecycle import retrain
from driftloop.model.registry import Registry
from driftloop.pipeline.runner import Runner
from driftloop.pipeline.steps import RetrainResult, Skipped

NIGHTS_GONE = dt.date(2011, 7, 1)


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Act three's pipeline with a production classifier trained on January-March; June and
    July run once (July: night hours gone, no labels), shared by the tests below."""
    root = tmp_path_factory.mktemp("impact")
    (root / "data").mkdir()
    stores = demo_config(root)["stores"]
    raw = performance_config(root, stores)
    data = busy_hours(night_hours_from=NIGHTS_GONE, labels_until=dt.date(2011, 6, 30))
    data.write_csv(root / "data" / "hours.csv")
    reference = data.filter(pl.col("dteday") < dt.date(2011, 4, 1))
    Warehouse(stores["warehouse"]).seed(reference, table="busy_reference")
    config = load_config(raw)
    registry = Registry.open(stores["mlflow"], stores["mlflow_artifacts"])
    retrain(reference, config.training, registry, name="busy-hours", trigger="test")
    alerts: list[str] = []
    runner = Runner(config, printer=alerts.append)
    june = runner.run(start=month(2011, 6)[0], end=month(2011, 6)[1])
    july = runner.run(start=month(2011, 7)[0], end=month(2011, 7)[1])
    return {"raw": raw, "config": config, "june": june, "july": july, "alerts": alerts}


def _report(outcome: Any) -> DriftReport:
    return DriftReport.from_json(Path(outcome.verdict.report_json))


def test_the_estimate_falls_when_the_easy_hours_vanish_and_the_loop_acts(loop) -> None:  # type: ignore[no-untyped-def]
    july = loop["july"]
    assert july.status == "succeeded", july.error
    section = _report(july).performance
    assert section is not None and section["alert"], section
    assert section["value"] < section["reference_value"] - 0.05
    assert "realized" not in section  # July's labels have not arrived
    assert july.verdict.fires
    assert any(r.startswith("estimated roc_auc") for r in july.verdict.reasons)
    assert isinstance(july.results["retrain"], RetrainResult)
    text = "\n".join(loop["alerts"])
    assert "Model hurt" in text and "estimated roc_auc" in text


def test_drift_that_does_not_hurt_the_model_is_reported_not_acted_on(loop) -> None:  # type: ignore[no-untyped-def]
    june = loop["june"]
    assert june.status == "succeeded", june.error
    report = _report(june)
    assert report.dataset_drift  # spring warmed the weather: the features moved
    section = report.performance
    assert section is not None and not section["alert"]
    # June's labels have arrived: the realized AUC sits beside the estimate, in its interval
    realized = section["realized"]
    assert section["lower"] <= realized["value"] <= section["upper"]
    assert realized["n_rows"] == 30 * 24
    assert not june.verdict.fires and june.verdict.reasons == ()
    assert isinstance(june.results["retrain"], Skipped)
    assert isinstance(june.results["alert"], Skipped)


def test_the_performance_tests_are_part_of_the_windows_family(loop) -> None:  # type: ignore[no-untyped-def]
    family = _report(loop["june"]).family
    parts = {part: (level, tests) for part, level, tests in family.parts}
    assert parts["performance"][1] == 2  # estimated and realized
    assert family.bound <= family.rate + 1e-9
    july = _report(loop["july"]).family
    assert [f.name for f in july.of("performance")] == ["estimated roc_auc"]


def test_without_require_performance_drop_drift_alone_acts(loop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    raw = json.loads(json.dumps(loop["raw"]))
    raw["on_drift"]["when"]["require_performance_drop"] = False
    raw["on_drift"]["retrain"] = False
    raw["pipeline"] = "bike-busy-hours-drift"
    raw["stores"]["runs"] = str(tmp_path / "runs")
    raw["stores"]["reports"] = str(tmp_path / "reports")
    outcome = Runner(load_config(raw), printer=lambda _: None).run(
        start=month(2011, 6)[0], end=month(2011, 6)[1]
    )
    assert outcome.status == "succeeded", outcome.error
    assert outcome.verdict.fires and "dataset drift" in outcome.verdict.reasons


def test_a_regressor_in_production_leaves_the_reason_and_no_number(make_pipeline) -> None:  # type: ignore[no-untyped-def]
    config = make_pipeline(performance={"metric": "accuracy"})
    first = Runner(config, printer=lambda _: None).run(
        start=month(2011, 3)[0], end=month(2011, 3)[1]
    )
    assert first.status == "succeeded", first.error
    second = Runner(config, printer=lambda _: None).run(
        start=month(2011, 4)[0], end=month(2011, 4)[1]
    )
    section = _report(second).performance
    assert section is not None and "value" not in section
    assert "no holdout scores" in section["skipped"] or "no production model" in section["skipped"]


def test_performance_without_a_model_is_refused_in_one_line(tmp_path: Path) -> None:
    from driftloop.errors import ConfigError

    raw = demo_config(tmp_path)
    raw.pop("training"), raw.pop("model")
    raw["on_drift"]["retrain"] = False
    raw["performance"] = {"metric": "roc_auc"}
    with pytest.raises(ConfigError, match=r"performance .* needs the 'training'"):
        load_config(raw)


def test_the_dashboard_shows_estimated_beside_realized_and_the_history_keeps_them(loop) -> None:  # type: ignore[no-untyped-def]
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    from driftloop.history.store import HistoryStore
    from driftloop.service.dashboard import dashboard_app

    config = loop["config"]
    rows = HistoryStore(config.stores.warehouse.get_secret_value()).performance(config.pipeline)
    june, july = rows
    assert june["realized"] is not None and not june["dropped"]
    assert july["realized"] is None and july["dropped"] and july["model_version"] == 1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = dashboard_app({config.pipeline: config})
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}")
        page = client.get(f"/ui/pipelines/{config.pipeline}")
        assert page.status_code == 200
        assert "Model performance" in page.text and 'id="performance"' in page.text
        assert f"{july['estimated']:.3f} roc_auc" in page.text and "no labels yet" in page.text
        assert f"{june['realized']:.3f}" in page.text and page.text.count("dropped") >= 1
        api = client.get(f"/api/pipelines/{config.pipeline}/history").json()
        assert [w["performance"]["dropped"] for w in api["windows"]] == [False, True]
    finally:
        server.should_exit = True
        thread.join(10)


def test_the_performance_gauges_follow_the_last_report(loop) -> None:  # type: ignore[no-untyped-def]
    from prometheus_client import generate_latest

    from driftloop.service.metrics import LoopMetrics

    metrics = LoopMetrics()
    for outcome in (loop["june"], loop["july"]):
        metrics.record_report("busy", DriftReport.from_json(outcome.verdict.report_json))
    text = generate_latest(metrics.registry).decode()
    section = _report(loop["july"]).performance
    assert (
        f'driftloop_model_performance{{kind="estimated",metric="roc_auc",pipeline="busy"}} '
        f"{section['value']}" in text
    )
    assert 'driftloop_model_performance_drop{metric="roc_auc",pipeline="busy"} 1.0' in text
    # June's realized value stays the last one known: July's labels have not arrived
    assert 'kind="realized"' in text


def test_the_performance_section_in_a_real_browser(loop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Debian's Chromium reads the pipeline page: the estimate with its interval per window,
    July's drop before its labels, the realized figure for June, and the chart's shaded band."""
    from playwright.sync_api import expect, sync_playwright

    from driftloop.history.store import HistoryStore
    from driftloop.service.dashboard import dashboard_app
    from tests.service.serving import app_in_thread

    config = loop["config"]
    june, july = HistoryStore(config.stores.warehouse.get_secret_value()).performance(
        config.pipeline
    )
    with (
        app_in_thread(dashboard_app({config.pipeline: config})) as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/ui/pipelines/{config.pipeline}")
        expect(page.locator("h2", has_text="Model performance")).to_be_visible()
        rows = page.locator("#performance tr")
        expect(rows).to_have_count(3)  # the header, June, July
        june_row, july_row = rows.nth(1), rows.nth(2)
        expect(june_row).to_contain_text(f"{june['realized']:.3f}")
        expect(june_row.locator("td").last).to_have_text("as the reference")
        expect(july_row).to_contain_text(f"{july['estimated']:.3f} roc_auc")
        expect(july_row).to_contain_text(f"{july['lower']:.3f}–{july['upper']:.3f}")
        expect(july_row).to_contain_text("no labels yet")
        expect(july_row.locator("td").last).to_have_text("dropped")
        chart = page.locator("svg.chart", has_text="per window: estimated (95% interval), realized")
        expect(chart).to_be_visible()
        expect(chart.locator("polygon.band")).to_have_count(1)
        page.screenshot(path=str(tmp_path / "performance.png"), full_page=True)
        browser.close()
