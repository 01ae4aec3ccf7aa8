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

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from driftloop.config import PipelineConfig
from driftloop.report.html import template_environment
from driftloop.service.access import COOKIE, login_cookie
from driftloop.service.findings import multivariate_finding
from driftloop.service.heatmap import sparkline
from driftloop.service.pages import PipelineData, feature_context, pipeline_context

__all__ = [
    "Dashboard",
    "check_exposure",
    "dashboard_app",
    "dashboard_routes",
    "next_by_schedule",
    "refused",
]

_ENV = template_environment("driftloop.service")
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


class Dashboard:
    """The pages and the API over ``configs``; the login form accepts any of ``tokens``."""

    def __init__(
        self,
        configs: dict[str, PipelineConfig],
        tokens: list[str],
        next_runs: Callable[[], dict[str, str | None]] | None = None,
    ) -> None:
        self.data = {name: PipelineData(config) for name, config in configs.items()}
        self.tokens = tokens
        self.next_runs = next_runs

    def routes(self) -> list[Route]:
        return [
            Route("/", lambda request: RedirectResponse("/ui/")),
            Route("/ui", lambda request: RedirectResponse("/ui/")),
            Route("/ui/", _handled(self.overview)),
            Route("/ui/login", self.login, methods=["GET", "POST"]),
            Route("/ui/pipelines/{pipeline}", _handled(self.pipeline)),
            Route("/ui/pipelines/{pipeline}/features/{feature:path}", _handled(self.feature)),
            Route("/ui/runs/{run_id}", _handled(self.run)),
            Route("/ui/runs/{run_id}/report", _handled(self.report)),
            Route("/ui/runs/{run_id}/model-card", _handled(self.card)),
            Route("/api/pipelines/{pipeline}/history", _handled(self.api_history)),
        ]

    def _pipeline(self, request: Request) -> PipelineData:
        name = request.path_params["pipeline"]
        if name not in self.data:
            known = ", ".join(sorted(self.data))
            raise BadRequest(404, f"no pipeline '{name}'; pipelines: {known}")
        return self.data[name]

    def _run(self, run_id: str) -> tuple[PipelineData, dict[str, Any]]:
        for d in self.data.values():
            record = d.runs.run(run_id)
            if record is not None and record["pipeline"] == d.config.pipeline:
                return d, record
        raise BadRequest(404, f"no run '{run_id}'")

    def overview(self, request: Request) -> Response:
        upcoming = self.next_runs() if self.next_runs is not None else {}
        rows = [d.summary(upcoming.get(name)) for name, d in self.data.items()]
        for row in rows:
            row["spark"] = sparkline(row["shares"], line=row["drift_share"])
        return _page("overview.html", rows=rows)

    def pipeline(self, request: Request) -> Response:
        d = self._pipeline(request)
        windows, total = d.recent(_date(request, "from"), _date(request, "to"))
        query = request.query_params
        context = pipeline_context(
            d, windows, query.get("status", ""), query.get("trigger", ""), _limit(request, 50)
        )
        shown = (query.get("from", ""), query.get("to", ""))
        return _page("pipeline.html", total=total, range=shown, **context)

    def feature(self, request: Request) -> Response:
        d = self._pipeline(request)
        name = request.path_params["feature"]
        rows = d.history.features(d.config.pipeline, feature=name)
        if not rows:
            raise BadRequest(404, f"no feature '{name}' in the history of '{d.config.pipeline}'")
        return _page("feature.html", **feature_context(d, name, rows))

    def run(self, request: Request) -> Response:
        d, record = self._run(request.path_params["run_id"])
        deliveries = d.deliveries(record["run_id"])
        report, card = d.report_file(record), d.model_card(record)
        found = d.history.run_findings(record["run_id"])
        for m in found["multivariate"]:
            m["finding"] = multivariate_finding(m)
        return _page(
            "run.html",
            r=record,
            deliveries=deliveries,
            report=report,
            card=card,
            multivariate=found["multivariate"],
            segments=found["segments"],
        )

    def report(self, request: Request) -> Response:
        d, record = self._run(request.path_params["run_id"])
        path = d.report_file(record)
        if path is None:
            raise BadRequest(404, f"no report for run '{record['run_id']}'")
        return FileResponse(path, media_type="text/html")

    def card(self, request: Request) -> Response:
        d, record = self._run(request.path_params["run_id"])
        from driftloop.errors import SourceError

        try:
            text = d.model_card_text(record)
        except SourceError as err:  # the S3 store is unreachable or refuses: one line
            raise BadRequest(502, str(err)) from None
        if text is None:
            raise BadRequest(404, f"no published model card for run '{record['run_id']}'")
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")

    def api_history(self, request: Request) -> Response:
        d = self._pipeline(request)
        start, end = _date(request, "from"), _date(request, "to")
        return JSONResponse(d.history.history(d.config.pipeline, start, end))

    async def login(self, request: Request) -> Response:
        target = request.query_params.get("next", "/ui/")
        target = target if target.startswith("/ui") else "/ui/"
        if request.method == "GET":
            return _page("login.html", next=target, error=None)
        form = parse_qs((await request.body())[:4096].decode("utf-8", "replace"))
        hashed = login_cookie(self.tokens, form.get("token", [""])[0])
        if hashed is None:
            return _page("login.html", 401, next=target, error="Wrong token.")
        response = RedirectResponse(target, 303)
        secure = request.url.scheme == "https"
        response.set_cookie(COOKIE, hashed, httponly=True, samesite="strict", secure=secure)
        return response


def _handled(view: Callable[[Request], Response]) -> Callable[[Request], Any]:
    """An endpoint running ``view`` in the thread pool (its queries block), bad input as 4xx."""

    async def endpoint(request: Request) -> Response:
        try:
            return await run_in_threadpool(view, request)
        except BadRequest as err:
            if request.url.path.startswith("/api"):
                return JSONResponse({"error": str(err)}, err.status)
            return _page("error.html", err.status, status=err.status, message=str(err))

    return endpoint


def dashboard_routes(
    configs: dict[str, PipelineConfig],
    tokens: list[str],
    next_runs: Callable[[], dict[str, str | None]] | None = None,
) -> list[Route]:
    """The dashboard's routes over ``configs`` (for ``serve``'s app and ``ui``'s)."""
    return Dashboard(configs, tokens, next_runs).routes()


def dashboard_app(configs: dict[str, PipelineConfig]) -> Any:
    """The dashboard alone (``driftloop ui``): no scheduler, no webhooks, nothing that writes."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware

    from driftloop.service.access import ReadAccess

    tokens = [c.dashboard.token.get_secret_value() for c in configs.values() if c.dashboard.token]
    return Starlette(
        routes=dashboard_routes(configs, tokens, lambda: next_by_schedule(configs)),
        middleware=[Middleware(ReadAccess, tokens=tokens, on_refused=refused)],
    )


def next_by_schedule(configs: dict[str, PipelineConfig]) -> dict[str, str | None]:
    """Each pipeline's next cron time by its config (what ``serve`` would run; ``ui`` runs
    nothing itself)."""
    from driftloop.service.scheduler import cron_trigger

    now = dt.datetime.now(dt.UTC)
    upcoming: dict[str, str | None] = {}
    for name, config in configs.items():
        fire = (
            cron_trigger(config.schedule).get_next_fire_time(None, now) if config.schedule else None
        )
        upcoming[name] = fire.isoformat() if fire is not None else None
    return upcoming


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
