"""The HTTP side of ``driftloop serve``: webhooks, metrics, the run API, health, and the
dashboard (``service/dashboard.py``). With ``dashboard.token`` set, the dashboard, ``/api``,
``/runs`` and ``/metrics`` need it (``service/access.py``); webhooks keep their own token.

``POST /hooks/{pipeline}`` takes Grafana and Alertmanager alert payloads or plain JSON
(``{"start": "2011-03-01", "end": "2011-03-31"}`` overrides the window). It needs the bearer token
(``Authorization: Bearer ...``) or an HMAC-SHA256 signature of ``"<timestamp>." + body``
(``X-Driftloop-Timestamp: <Unix seconds>``, ``X-Driftloop-Signature: sha256=<hex>``), compared in
constant time, within ``webhook.tolerance_seconds`` of the server's clock and accepted once
(replays get 401); 401 otherwise. Bodies over the limit get 413, unknown pipelines 404 (naming
none), resolved alerts are acknowledged without a run. The answer says which run the trigger
joined. While a pipeline's database is down, what reads it answers 503 (``service/outage.py``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from driftloop.config import PipelineConfig
from driftloop.pipeline.records import RunStore
from driftloop.service.access import ReadAccess
from driftloop.service.coordinator import MAX_QUEUED, Coordinator
from driftloop.service.dashboard import dashboard_routes, refused
from driftloop.service.outage import OUTAGE_ERRORS, unavailable
from driftloop.service.signatures import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ReplayGuard,
    sign,
    signed_headers,
)
from driftloop.service.triggers import TriggerStore

__all__ = ["ReplayGuard", "create_app", "sign", "signed_headers"]


def _authorized(
    config: PipelineConfig, headers: Headers, body: bytes, guard: ReplayGuard
) -> str | None:
    """None when the request may pass; otherwise why it may not."""
    hook = config.webhook
    if hook is None:
        return "webhooks are not configured for this pipeline"
    if hook.token is not None:
        given = headers.get("authorization", "")
        expected = "Bearer " + hook.token.get_secret_value()
        if hmac.compare_digest(given.encode(), expected.encode()):
            return None
    if hook.hmac_secret is not None and SIGNATURE_HEADER in headers:
        return _check_signature(hook.hmac_secret.get_secret_value(), headers, body, guard)
    return "missing or invalid bearer token or signature"


def _check_signature(secret: str, headers: Headers, body: bytes, guard: ReplayGuard) -> str | None:
    stamp = headers.get(TIMESTAMP_HEADER, "")
    try:
        sent = float(stamp)
    except ValueError:
        return f"missing or invalid {TIMESTAMP_HEADER} header (Unix seconds)"
    expected = sign(secret, body, stamp)
    if not hmac.compare_digest(headers[SIGNATURE_HEADER].encode(), expected.encode()):
        return "invalid signature"
    now = time.time()
    if not math.isfinite(sent) or abs(now - sent) > guard.tolerance:
        return f"timestamp outside the {guard.tolerance:.0f} s tolerance (check the sender's clock)"
    if not guard.first_use(expected, now):
        return "replayed request (this signature was already used)"
    return None


class _SlowBody(Exception):
    pass


async def _read_limited(request: Request, limit: int, deadline: float) -> bytes | None:
    """The body, None when over ``limit`` bytes; _SlowBody after ``deadline`` seconds (a
    trickling client would otherwise hold a worker forever)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    try:
        async with asyncio.timeout(deadline):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    return None
                chunks.append(chunk)
    except TimeoutError:
        raise _SlowBody from None
    return b"".join(chunks)


def _window(payload: Any) -> tuple[dt.date | None, dt.date | None, str | None]:
    """The window a payload asks for, and whether it is a resolved alert to ignore."""
    if not isinstance(payload, dict):
        return None, None, None
    if payload.get("status") == "resolved" and isinstance(payload.get("alerts"), list):
        return None, None, "resolved alert"
    start, end = payload.get("start"), payload.get("end")
    if start is None and end is None:
        return None, None, None
    if not (isinstance(start, str) and isinstance(end, str)):
        raise ValueError("'start' and 'end' must both be dates like 2011-03-01")
    first, last = _date(start, "start"), _date(end, "end")
    if last < first:
        raise ValueError(f"the window ends ({last}) before it starts ({first})")
    return first, last, None


def _date(text: str, key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{key}' must be a date like 2011-03-01; got {text[:40]!r}") from None


_MAX_LIMIT = 1000
RETRY_AFTER_SECONDS = 60


def _accept(
    name: str,
    config: PipelineConfig,
    headers: Headers,
    body: bytes,
    guard: ReplayGuard,
    coordinator: Coordinator,
) -> Response:
    """A webhook whose body arrived: authorized, parsed, and committed to the queue (in a
    worker thread: it writes to the database)."""
    metrics = coordinator.metrics
    refused = _authorized(config, headers, body, guard)
    if refused is not None:
        metrics.webhooks.labels(name, "unauthorized").inc()
        return JSONResponse({"error": refused}, 401)
    try:
        payload = json.loads(body) if body.strip() else {}
        start, end, ignore = _window(payload)
    except (ValueError, TypeError) as err:
        metrics.webhooks.labels(name, "bad_request").inc()
        return JSONResponse({"error": f"invalid payload: {err}"}, 400)
    if ignore:
        metrics.webhooks.labels(name, "ignored").inc()
        return JSONResponse({"pipeline": name, "action": "ignored", "reason": ignore}, 200)
    joined = coordinator.trigger(name, "webhook", start, end)
    metrics.webhooks.labels(name, joined.action).inc()
    if joined.action == "refused":
        error = f"{MAX_QUEUED} runs are already queued for '{name}'; retry later"
        return JSONResponse(
            {"pipeline": name, "error": error, "running": joined.running},
            429,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return JSONResponse({"pipeline": name, **joined.to_dict()}, 202)


def _run_answer(
    stores: dict[str, RunStore], triggers: dict[str, TriggerStore], run_id: str
) -> Response:
    """A run's record with its trigger; only the trigger while the run has not begun."""
    for name, store in stores.items():
        record = store.run(run_id)
        queued = triggers[name].get(run_id)
        if record is None:
            if queued is None:
                continue
            record = {
                "run_id": run_id,
                "pipeline": name,
                "status": queued.state,
                "window_start": queued.start,
                "window_end": queued.end,
            }
        record["trigger_state"] = queued.to_dict() if queued is not None else None
        verdict = record.get("verdict") or {}
        path = verdict.get("report_json")
        if path and Path(path).is_file():
            record["report"] = json.loads(Path(path).read_text())
        return JSONResponse(json.loads(json.dumps(record, default=str)))
    return JSONResponse({"error": f"no run '{run_id}'"}, 404)


def create_app(
    configs: dict[str, PipelineConfig],
    coordinator: Coordinator,
    next_runs: Callable[[], dict[str, str | None]] | None = None,
) -> Starlette:
    """The Starlette app for ``configs``; runs go through ``coordinator``; ``next_runs`` tells
    each pipeline's next scheduled run (ISO time, or None without a schedule)."""
    metrics = coordinator.metrics
    stores = {name: RunStore(c.stores.warehouse.get_secret_value()) for name, c in configs.items()}
    triggers = {
        name: TriggerStore(c.stores.warehouse.get_secret_value()) for name, c in configs.items()
    }
    guards = {
        name: ReplayGuard(
            c.stores.warehouse.get_secret_value(),
            name,
            c.webhook.tolerance_seconds if c.webhook else 300.0,
        )
        for name, c in configs.items()
    }

    async def hook(request: Request) -> Response:
        name = request.path_params["pipeline"]
        config = configs.get(name)
        if config is None:  # names no pipeline: a caller without credentials learns nothing
            return JSONResponse({"error": "unknown pipeline"}, 404)
        limit = config.webhook.max_body_bytes if config.webhook else 1_048_576
        deadline = config.webhook.body_timeout_seconds if config.webhook else 10.0
        try:
            body = await _read_limited(request, limit, deadline)
        except _SlowBody:
            metrics.webhooks.labels(name, "too_slow").inc()
            error = f"the body took longer than {deadline:g} s to arrive"
            return JSONResponse({"error": error}, 408)
        except ClientDisconnect:  # the client went away: nothing to answer, nothing to log
            metrics.webhooks.labels(name, "disconnected").inc()
            return Response(status_code=400)
        if body is None:
            metrics.webhooks.labels(name, "too_large").inc()
            return JSONResponse({"error": f"body larger than {limit} bytes"}, 413)
        return await run_in_threadpool(
            _accept, name, config, request.headers, body, guards[name], coordinator
        )

    async def runs(request: Request) -> Response:
        pipeline = request.query_params.get("pipeline")
        limit_text = request.query_params.get("limit", "50")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= _MAX_LIMIT:
            message = f"limit must be a whole number from 1 to {_MAX_LIMIT}; got {limit_text!r}"
            return JSONResponse({"error": message}, 400)
        limit = int(limit_text)
        names = [pipeline] if pipeline else list(configs)
        if pipeline and pipeline not in configs:
            return JSONResponse({"error": f"unknown pipeline '{pipeline}'"}, 404)
        found = await run_in_threadpool(
            lambda: [r for n in names for r in stores[n].runs(n, limit)]
        )
        found.sort(key=lambda r: (r["started_at"], r["run_id"]), reverse=True)
        return JSONResponse(json.loads(json.dumps(found[:limit], default=str)))

    async def run(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        return await run_in_threadpool(_run_answer, stores, triggers, run_id)

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        def answer() -> dict[str, Any]:
            for store in stores.values():
                store.ping()
            upcoming = next_runs() if next_runs is not None else {}
            return {n: {**coordinator.status(n), "next_run": upcoming.get(n)} for n in configs}

        pipelines = await run_in_threadpool(answer)
        return JSONResponse({"status": "ok", "pipelines": pipelines})

    tokens = [c.dashboard.token.get_secret_value() for c in configs.values() if c.dashboard.token]
    return Starlette(
        routes=[
            Route("/hooks/{pipeline}", hook, methods=["POST"]),
            Route("/runs", runs),
            Route("/runs/{run_id}", run),
            Route("/metrics", metrics_endpoint),
            Route("/healthz", healthz),
            *dashboard_routes(configs, tokens, next_runs),
        ],
        middleware=[Middleware(ReadAccess, tokens=tokens, on_refused=refused)],
        exception_handlers=dict.fromkeys(OUTAGE_ERRORS, unavailable),
    )
