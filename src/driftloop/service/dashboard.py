"""The read-only web dashboard and its JSON API (served by ``driftloop serve`` and ``ui``).

Pages: ``/ui/`` (every pipeline), ``/ui/pipelines/{pipeline}`` (heatmap, share drifted, concept
metrics, model decisions, runs), ``/ui/pipelines/{pipeline}/features/{feature}``,
``/ui/runs/{run_id}``; ``/api/pipelines/{pipeline}/history?from=&to=`` answers JSON. Server
rendered (Jinja, inline SVG, no scripts, nothing fetched from elsewhere). Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from driftloop.config import PipelineConfig
from driftloop.report.charts import line_chart
from driftloop.report.format import fmt_number, fmt_p
from driftloop.service.access import COOKIE, login_cookie
from driftloop.service.heatmap import heatmap, sparkline
from driftloop.service.pages import PipelineData, model_event

__all__ = ["check_exposure", "dashboard_app", "dashboard_routes", "refused"]

_ENV = Environment(
    loader=PackageLoader("driftloop.service", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["num"] = fmt_number
_ENV.filters["p"] = fmt_p
_ENV.filters["q"] = lambda text: quote(str(text), safe="")
_MAX_LIMIT = 1000


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _page(template: str, code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_ENV.get_template(template).render(**context), code)


async def refused(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer without read access: the login form on pages, JSON 401 elsewhere."""
    path = scope["path"]
    if path.startswith("/ui"):
        response: Response = _page("login.html", 401, next=path, error=None)
    else:
        response = JSONResponse(
            {"error": "missing or invalid read token (Authorization: Bearer ...)"},
            401,
            headers={"WWW-Authenticate": 'Bearer realm="driftloop"'},
        )
    await response(scope, receive, send)


def _date(request: Request, key: str) -> dt.date | None:
    text = request.query_params.get(key)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadRequest(400, f"{key} must be a date like 2011-03-01; got {text!r}") from None


def _limit(request: Request, default: int) -> int:
    text = request.query_params.get("limit", str(default))
    if not text.isdigit() or not 1 <= int(text) <= _MAX_LIMIT:
        raise BadRequest(400, f"limit must be a whole number from 1 to {_MAX_LIMIT}; got {text!r}")
    return int(text)


def dashboard_routes(
    configs: dict[str, PipelineConfig],
    tokens: list[str],
    next_runs: Callable[[], dict[str, str | None]] | None = None,
) -> list[Route]:
    """The dashboard's routes over ``configs``; the login form accepts any of ``tokens``."""
    data = {name: PipelineData(config) for name, config in configs.items()}

    def pipeline_of(request: Request) -> PipelineData:
        name = request.path_params["pipeline"]
        if name not in data:
            raise BadRequest(404, f"no pipeline '{name}'; pipelines: {', '.join(sorted(data))}")
        return data[name]

    def handled(view: Callable[[Request], Response]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                return view(request)
            except BadRequest as err:
                if request.url.path.startswith("/api"):
                    return JSONResponse({"error": str(err)}, err.status)
                return _page("error.html", err.status, status=err.status, message=str(err))

        return endpoint

    def overview(request: Request) -> Response:
        upcoming = next_runs() if next_runs is not None else {}
        rows = [d.summary(upcoming.get(name)) for name, d in data.items()]
        for row in rows:
            row["spark"] = sparkline(row["shares"], line=row["drift_share"])
        return _page("overview.html", rows=rows)

    def pipeline_page(request: Request) -> Response:
        d = pipeline_of(request)
        windows, total = d.recent(_date(request, "from"), _date(request, "to"))
        context = _pipeline_context(d, windows, request)
        return _page("pipeline.html", total=total, **context)

    def feature_page(request: Request) -> Response:
        d = pipeline_of(request)
        name = request.path_params["feature"]
        rows = d.history.features(d.config.pipeline, feature=name)
        if not rows:
            raise BadRequest(404, f"no feature '{name}' in the history of '{d.config.pipeline}'")
        return _page("feature.html", **_feature_context(d, name, rows))

    def run_page(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        for d in data.values():
            record = d.runs.run(run_id)
            if record is not None and record["pipeline"] == d.config.pipeline:
                deliveries = d.deliveries(run_id)
                report = d.report_file(record)
                return _page("run.html", r=record, deliveries=deliveries, report=report)
        raise BadRequest(404, f"no run '{run_id}'")

    def run_report(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        for d in data.values():
            record = d.runs.run(run_id)
            path = d.report_file(record) if record is not None else None
            if path is not None:
                return FileResponse(path, media_type="text/html")
        raise BadRequest(404, f"no report for run '{run_id}'")

    def api_history(request: Request) -> Response:
        d = pipeline_of(request)
        start, end = _date(request, "from"), _date(request, "to")
        return JSONResponse(d.history.history(d.config.pipeline, start, end))

    async def login(request: Request) -> Response:
        target = request.query_params.get("next", "/ui/")
        target = target if target.startswith("/ui") else "/ui/"
        if request.method == "GET":
            return _page("login.html", next=target, error=None)
        form = parse_qs((await request.body())[:4096].decode("utf-8", "replace"))
        hashed = login_cookie(tokens, form.get("token", [""])[0])
        if hashed is None:
            return _page("login.html", 401, next=target, error="Wrong token.")
        response = RedirectResponse(target, 303)
        secure = request.url.scheme == "https"
        response.set_cookie(COOKIE, hashed, httponly=True, samesite="strict", secure=secure)
        return response

    return [
        Route("/", lambda request: RedirectResponse("/ui/")),
        Route("/ui", lambda request: RedirectResponse("/ui/")),
        Route("/ui/", handled(overview)),
        Route("/ui/login", login, methods=["GET", "POST"]),
        Route("/ui/pipelines/{pipeline}", handled(pipeline_page)),
        Route("/ui/pipelines/{pipeline}/features/{feature:path}", handled(feature_page)),
        Route("/ui/runs/{run_id}", handled(run_page)),
        Route("/ui/runs/{run_id}/report", handled(run_report)),
        Route("/api/pipelines/{pipeline}/history", handled(api_history)),
    ]


def _pipeline_context(
    d: PipelineData, windows: list[dict[str, Any]], request: Request
) -> dict[str, Any]:
    name = d.config.pipeline
    records = d.run_records()
    by_run = {r["run_id"]: r for r in records}
    features = sorted({f for w in windows for f in w["features"]})
    labels = [w["start"] for w in windows]
    events = [
        (w, model_event((by_run.get(w["run_id"]) or {}).get("model_outcome"))) for w in windows
    ]
    last = d.history.windows(name, dt.date.fromisoformat(windows[-1]["start"])) if windows else []
    drift_share = last[-1]["drift_share"] if last else None
    share_chart = line_chart(
        labels,
        {"share drifted": [w["share_drifted"] for w in windows]},
        title="share of features drifted per window (dataset drift at the dashed line)",
        baseline=drift_share,
        marks=[e is not None for _, e in events],
    )
    status, trigger = request.query_params.get("status"), request.query_params.get("trigger")
    runs = [
        r
        for r in records
        if (not status or r["status"] == status) and (not trigger or r["trigger"] == trigger)
    ][: _limit(request, 50)]
    for r in runs:
        r["duration"] = _duration(r)
    return {
        "name": name,
        "windows": windows,
        "heatmap": heatmap(windows, features, f"/ui/pipelines/{quote(name)}/features/"),
        "share_chart": share_chart,
        "concept_charts": _concept_charts(d.concept()),
        "events": [(w, e) for w, e in events if e is not None],
        "runs": runs,
        "status": status or "",
        "trigger": trigger or "",
        "statuses": sorted({r["status"] for r in records}),
        "triggers": sorted({r["trigger"] for r in records}),
        "range": (request.query_params.get("from", ""), request.query_params.get("to", "")),
    }


def _concept_charts(series: list[dict[str, Any]]) -> list[Any]:
    if not series:
        return []
    labels = [w["window_start"] for w in series]
    charts = []
    for metric in series[-1]["metrics"]:
        name = metric["name"]

        def value(w: dict[str, Any], key: str, name: str = name) -> Any:
            return next((m.get(key) for m in w["metrics"] if m["name"] == name), None)

        charts.append(
            line_chart(
                labels,
                {name: [value(w, "current") for w in series]},
                title=f"{name} per window (baseline dashed, 95% CI shaded)",
                baseline=metric["baseline"],
                band=([value(w, "ci_low") for w in series], [value(w, "ci_high") for w in series]),
                marks=[bool(value(w, "alerted")) for w in series],
            )
        )
    return charts


def _feature_context(d: PipelineData, name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    from driftloop.drift.results import Histogram
    from driftloop.report.html import histogram_svg

    labels = [r["window_start"].isoformat() for r in rows]
    last = rows[-1]
    tested = last["p_value"] is not None
    chart = line_chart(
        labels,
        {
            ("p-value" if tested else "statistic"): [
                r["p_value" if tested else "statistic"] for r in rows
            ]
        },
        title=f"{name}: {last['method']} {'p-value' if tested else 'statistic'} per window "
        "(threshold dashed)",
        baseline=last["threshold"],
        marks=[bool(r["drifted"]) for r in rows],
    )
    histogram = None
    report = d.latest_report()
    column = next((c for c in (report or {}).get("columns", []) if c["name"] == name), None)
    if column is not None and column.get("histogram"):
        h = column["histogram"]
        histogram = histogram_svg(
            Histogram(
                tuple(h["reference"]),
                tuple(h["current"]),
                tuple(h["edges"]) if h.get("edges") else None,
                tuple(h["labels"]) if h.get("labels") else None,
            )
        )
    return {
        "pipeline": d.config.pipeline,
        "name": name,
        "rows": rows,
        "chart": chart,
        "histogram": histogram,
    }


def _duration(record: dict[str, Any]) -> str:
    if not record.get("finished_at"):
        return "-"
    started = dt.datetime.fromisoformat(record["started_at"])
    seconds = (dt.datetime.fromisoformat(record["finished_at"]) - started).total_seconds()
    return f"{seconds:.1f} s"


def dashboard_app(configs: dict[str, PipelineConfig]) -> Any:
    """The dashboard alone (``driftloop ui``): no scheduler, no webhooks, nothing that writes."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware

    from driftloop.service.access import ReadAccess

    tokens = [c.dashboard.token.get_secret_value() for c in configs.values() if c.dashboard.token]
    return Starlette(
        routes=dashboard_routes(configs, tokens),
        middleware=[Middleware(ReadAccess, tokens=tokens, on_refused=refused)],
    )


def check_exposure(configs: dict[str, PipelineConfig], host: str) -> str | None:
    """Why serving on ``host`` would expose the dashboard to anyone, or None when it would not."""
    from driftloop.service.access import is_loopback

    if is_loopback(host) or any(c.dashboard.token for c in configs.values()):
        return None
    return (
        f"--host {host} would open the dashboard, /runs and /metrics to anyone who can reach "
        "it: set dashboard.token (e.g. token: ${DRIFTLOOP_DASHBOARD_TOKEN}) or serve on "
        "127.0.0.1."
    )
