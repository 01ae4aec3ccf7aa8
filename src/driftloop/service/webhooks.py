"""``POST /hooks/{pipeline}``: a trigger from outside, authorized, read and queued.

It takes Grafana and Alertmanager alert payloads or plain JSON (``{"start": "2011-03-01", "end":
"2011-03-31"}`` overrides the window). It needs the bearer token (``Authorization: Bearer ...``)
or an HMAC-SHA256 signature of ``"<timestamp>." + body`` (``X-Driftloop-Timestamp: <Unix
seconds>``, ``X-Driftloop-Signature: sha256=<hex>``, ``service/signatures.py``), compared in
constant time, within ``webhook.tolerance_seconds`` of the server's clock and accepted once
(replays get 401, also after a restart); 401 otherwise. Bodies over the limit get 413, bodies
slower than ``webhook.body_timeout_seconds`` 408, unknown pipelines 404 (naming none), resolved
alerts are acknowledged without a run. The trigger is committed to the queue before the 202,
which says which run it joined.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import math
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from driftloop.config import PipelineConfig
from driftloop.service.coordinator import MAX_QUEUED, Coordinator
from driftloop.service.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, ReplayGuard, sign

__all__ = ["RETRY_AFTER_SECONDS", "Webhooks"]

RETRY_AFTER_SECONDS = 60


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


class Webhooks:
    """The endpoint: each pipeline's config and replay guard, runs through ``coordinator``."""

    def __init__(self, configs: dict[str, PipelineConfig], coordinator: Coordinator) -> None:
        self.configs = configs
        self.coordinator = coordinator
        self.guards = {
            name: ReplayGuard(
                c.stores.warehouse.get_secret_value(),
                name,
                c.webhook.tolerance_seconds if c.webhook else 300.0,
            )
            for name, c in configs.items()
        }

    async def hook(self, request: Request) -> Response:
        name = request.path_params["pipeline"]
        config = self.configs.get(name)
        if config is None:  # names no pipeline: a caller without credentials learns nothing
            return JSONResponse({"error": "unknown pipeline"}, 404)
        limit = config.webhook.max_body_bytes if config.webhook else 1_048_576
        deadline = config.webhook.body_timeout_seconds if config.webhook else 10.0
        count = self.coordinator.metrics.webhooks.labels
        try:
            body = await _read_limited(request, limit, deadline)
        except _SlowBody:
            count(name, "too_slow").inc()
            error = f"the body took longer than {deadline:g} s to arrive"
            return JSONResponse({"error": error}, 408)
        except ClientDisconnect:  # the client went away: nothing to answer, nothing to log
            count(name, "disconnected").inc()
            return Response(status_code=400)
        if body is None:
            count(name, "too_large").inc()
            return JSONResponse({"error": f"body larger than {limit} bytes"}, 413)
        return await run_in_threadpool(
            _accept, name, config, request.headers, body, self.guards[name], self.coordinator
        )
