"""The dashboard and its JSON API over HTTP, from a real ``driftloop ui`` process."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.report.format import fmt_number
from tests.pipeline.conftest import write_config
from tests.service.conftest import Dashboard

PIPELINE = "bike-sharing"


def report_of(dash: Dashboard, run_id: str) -> dict[str, Any]:
    (path,) = (Path(dash.config.stores.reports) / PIPELINE).glob(f"*_{run_id}.json")
    return dict(json.loads(path.read_text()))


def test_the_read_token_guards_pages_and_the_api(dashboard: Dashboard) -> None:
    paths = [
        "/ui/",
        f"/ui/pipelines/{PIPELINE}",
        f"/ui/pipelines/{PIPELINE}/features/temp",
        f"/ui/runs/{dashboard.model_run}",
        f"/ui/runs/{dashboard.model_run}/report",
        f"/api/pipelines/{PIPELINE}/history",
    ]
    for path in paths:
        url = dashboard.url + path
        assert httpx.get(url).status_code == 401, path
        wrong = {"Authorization": f"Bearer {dashboard.token}x"}
        assert httpx.get(url, headers=wrong, cookies={"driftloop_read": "x"}).status_code == 401
        answer = httpx.get(url, headers=dashboard.auth)
        assert answer.status_code == 200, path
        assert dashboard.token not in answer.text  # the dashboard never shows a secret
    page = httpx.get(dashboard.url + "/ui/")
    assert '<input type="password" name="token"' in page.text
    api = httpx.get(dashboard.url + f"/api/pipelines/{PIPELINE}/history")
    assert api.json() == {"error": "missing or invalid read token (Authorization: Bearer ...)"}
    assert api.headers["www-authenticate"] == 'Bearer realm="driftloop"'
    assert httpx.get(dashboard.url + "/").headers["location"] == "/ui/"


def test_the_login_form_sets_a_cookie_that_is_not_the_token(dashboard: Dashboard) -> None:
    refused = httpx.post(dashboard.url + "/ui/login", data={"token": "guess"})
    assert refused.status_code == 401 and "Wrong token." in refused.text
    signed = httpx.post(
        dashboard.url + f"/ui/login?next=/ui/pipelines/{PIPELINE}", data={"token": dashboard.token}
    )
    assert signed.status_code == 303 and signed.headers["location"] == f"/ui/pipelines/{PIPELINE}"
    cookie = signed.headers["set-cookie"]
    assert dashboard.token not in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    with httpx.Client(base_url=dashboard.url, cookies=signed.cookies) as client:
        assert client.get(f"/ui/pipelines/{PIPELINE}").status_code == 200
    offsite = httpx.post(
        dashboard.url + "/ui/login?next=https://elsewhere.example/", data={"token": dashboard.token}
    )
    assert offsite.headers["location"] == "/ui/"


def test_the_history_api_has_every_window_with_the_values_of_its_report(
    dashboard: Dashboard,
) -> None:
    answer = httpx.get(f"{dashboard.url}/api/pipelines/{PIPELINE}/history", headers=dashboard.auth)
    history = answer.json()
    assert history["pipeline"] == PIPELINE
    assert [(w["start"], w["end"]) for w in history["windows"]] == [
        (str(a), str(b)) for a, b in dashboard.windows
    ]
    for window in history["windows"]:
        report = report_of(dashboard, window["run_id"])
        assert window["dataset_drift"] == report["dataset_drift"]
        assert window["share_drifted"] == report["share_drifted"]
        assert window["features"] == {
            c["name"]: {k: c[k] for k in ("method", "statistic", "p_value", "threshold", "drifted")}
            for c in report["columns"]
        }
    since = httpx.get(
        f"{dashboard.url}/api/pipelines/{PIPELINE}/history?from=2011-06-01&to=2011-08-01",
        headers=dashboard.auth,
    ).json()
    assert [w["start"] for w in since["windows"]] == [
        str(a) for a, _ in dashboard.windows if "2011-06-01" <= str(a) <= "2011-08-01"
    ]


def test_the_pipeline_page_draws_every_window_and_feature(dashboard: Dashboard) -> None:
    page = httpx.get(f"{dashboard.url}/ui/pipelines/{PIPELINE}", headers=dashboard.auth).text
    cells = re.findall(
        r'<rect class="cell"[^>]*data-feature="([^"]+)" data-window="([^"]+)"><title>([^<]*)</title>',
        page,
    )
    last = report_of(dashboard, _latest_run(dashboard))
    features = sorted(c["name"] for c in last["columns"])
    assert len(cells) == 24 * len(features)
    assert sorted({f for f, _, _ in cells}) == features
    assert sorted({w for _, w, _ in cells}) == [str(a) for a, _ in dashboard.windows]
    temp = next(c for c in last["columns"] if c["name"] == "temp")
    start, end = dashboard.windows[-1]
    title = next(unescape(t) for f, w, t in cells if f == "temp" and w == str(start))
    assert title.startswith(
        f"temp, {start}..{end}: ks statistic {fmt_number(temp['statistic'])}, p-value "
    )
    assert f'href="/ui/pipelines/{PIPELINE}/features/temp"' in page
    assert f'href="/ui/runs/{dashboard.model_run}"' in page  # the model decision's window
    assert 'v1</td><td class="no">promoted' in page


def test_the_feature_page_plots_p_values_on_a_log_axis(dashboard: Dashboard) -> None:
    page = httpx.get(
        f"{dashboard.url}/ui/pipelines/{PIPELINE}/features/temp", headers=dashboard.auth
    ).text
    chart = re.findall(r'<svg class="chart".*?</svg>', page, re.S)[0]
    assert "ks p-value per window" in chart
    ticks = [float(t) for t in re.findall(r'class="tick end">([-0-9.e+]+)</text>', chart)]
    assert len(ticks) >= 3 and ticks[0] == 1  # whole decades down from 1
    assert all(t > 0 and math.log10(t) == round(math.log10(t)) for t in ticks), ticks
    p_values = [w["p_value"] for w in _history_of(dashboard, "temp")]
    assert min(ticks) <= max(min(p_values), 1e-16)  # the smallest p-value is on the axis


def _history_of(dashboard: Dashboard, feature: str) -> list[dict[str, Any]]:
    history = httpx.get(
        f"{dashboard.url}/api/pipelines/{PIPELINE}/history", headers=dashboard.auth
    ).json()
    return [w["features"][feature] for w in history["windows"] if feature in w["features"]]


def _latest_run(dashboard: Dashboard) -> str:
    history = httpx.get(
        f"{dashboard.url}/api/pipelines/{PIPELINE}/history", headers=dashboard.auth
    ).json()
    return str(history["windows"][-1]["run_id"])


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/ui/pipelines/nope", 404, "no pipeline 'nope'; pipelines: bike-sharing"),
        (f"/ui/pipelines/{PIPELINE}/features/nope", 404, "no feature 'nope'"),
        ("/ui/runs/nope", 404, "no run 'nope'"),
        (f"/ui/pipelines/{PIPELINE}?limit=abc", 400, "limit must be a whole number"),
        (f"/ui/pipelines/{PIPELINE}?limit=-1", 400, "got '-1'"),
        (f"/ui/pipelines/{PIPELINE}?limit=99999999999999999999", 400, "from 1 to 1000"),
        (f"/ui/pipelines/{PIPELINE}?from=March", 400, "from must be a date like 2011-03-01"),
        (f"/api/pipelines/{PIPELINE}/history?to=2011-13-01", 400, "to must be a date"),
        ("/api/pipelines/nope/history", 404, "no pipeline 'nope'"),
    ],
    ids=[
        "pipeline",
        "feature",
        "run",
        "limit-word",
        "limit-negative",
        "limit-huge",
        "from",
        "api-to",
        "api-pipeline",
    ],
)
def test_bad_urls_get_a_clear_answer(
    dashboard: Dashboard, path: str, status: int, message: str
) -> None:
    answer = httpx.get(dashboard.url + path, headers=dashboard.auth)
    assert answer.status_code == status
    assert message in unescape(answer.text)


def test_ui_refuses_to_open_the_dashboard_to_the_network_without_a_token(
    make_pipeline, tmp_path: Path
) -> None:
    config = make_pipeline(seed=False)
    path = write_config(config, tmp_path / "driftloop.yaml")
    result = CliRunner().invoke(app, ["ui", "--config", str(path), "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --host 0.0.0.0 would open the dashboard, /runs and /metrics to anyone who can "
        "reach it: set dashboard.token (e.g. token: ${DRIFTLOOP_DASHBOARD_TOKEN}) or serve on "
        "127.0.0.1."
    ]


def test_the_run_page_links_the_report_and_the_published_model_card(dashboard: Dashboard) -> None:
    run = httpx.get(f"{dashboard.url}/ui/runs/{dashboard.model_run}", headers=dashboard.auth)
    assert f'href="/ui/runs/{dashboard.model_run}/model-card"' in run.text
    assert f'href="/ui/runs/{dashboard.model_run}/report"' in run.text
    card = httpx.get(
        f"{dashboard.url}/ui/runs/{dashboard.model_run}/model-card", headers=dashboard.auth
    )
    assert card.status_code == 200 and card.headers["content-type"].startswith("text/markdown")
    assert "bike-demand" in card.text and "version 1" in card.text.lower()
    other = _latest_run(dashboard)  # a backfill run: detection only, no model
    assert (
        'id="card"'
        not in httpx.get(f"{dashboard.url}/ui/runs/{other}", headers=dashboard.auth).text
    )
    missing = httpx.get(f"{dashboard.url}/ui/runs/{other}/model-card", headers=dashboard.auth)
    assert missing.status_code == 404 and "no published model card" in missing.text


def test_the_overview_tells_each_pipeline_s_state(dashboard: Dashboard) -> None:
    page = httpx.get(f"{dashboard.url}/ui/", headers=dashboard.auth).text
    row = page[page.index('<td><a href="/ui/pipelines/bike-sharing">') :].split("</tr>")[0]
    history = httpx.get(
        f"{dashboard.url}/api/pipelines/{PIPELINE}/history", headers=dashboard.auth
    ).json()
    last = history["windows"][-1]
    assert f">{last['start']}..{last['end']}</a>" in row
    assert "<td>24</td>" in row and "<td>v1</td>" in row and 'class="spark"' in row
    now = dt.datetime.now(dt.UTC)  # the demo's schedule: Mondays 11:00 UTC
    monday = (now + dt.timedelta(days=-now.weekday() % 7)).replace(
        hour=11, minute=0, second=0, microsecond=0
    )
    if monday <= now:
        monday += dt.timedelta(days=7)
    assert f"<td>{monday.isoformat()}</td>" in row
