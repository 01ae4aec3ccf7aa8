"""The HTTP side of ``driftloop serve``, built from its parts: webhooks
(``service/webhooks.py``), the run API, health and metrics (``service/api.py``), and the
dashboard (``service/dashboard.py``). With ``dashboard.token`` set, the dashboard, ``/api``,
``/runs`` and ``/metrics`` need it (``service/access.py``); webhooks keep their own token. While
a pipeline's database is down, what reads it answers 503 (``service/outage.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from driftloop.config import PipelineConfig
from driftloop.service.access import ReadAccess
from driftloop.service.api import RunApi
from driftloop.service.coordinator import Coordinator
from driftloop.service.dashboard import dashboard_routes, refused
from driftloop.service.outage import OUTAGE_ERRORS, unavailable
from driftloop.service.signatures import ReplayGuard, sign, signed_headers
from driftloop.service.webhooks import Webhooks

__all__ = ["ReplayGuard", "create_app", "sign", "signed_headers"]


def create_app(
    configs: dict[str, PipelineConfig],
    coordinator: Coordinator,
    next_runs: Callable[[], dict[str, str | None]] | None = None,
) -> Starlette:
    """The Starlette app for ``configs``; runs go through ``coordinator``; ``next_runs`` tells
    each pipeline's next scheduled run (ISO time, or None without a schedule)."""
    tokens = [c.dashboard.token.get_secret_value() for c in configs.values() if c.dashboard.token]
    return Starlette(
        routes=[
            Route("/hooks/{pipeline}", Webhooks(configs, coordinator).hook, methods=["POST"]),
            *RunApi(configs, coordinator, next_runs).routes(),
            *dashboard_routes(configs, tokens, next_runs),
        ],
        middleware=[Middleware(ReadAccess, tokens=tokens, on_refused=refused)],
        exception_handlers=dict.fromkeys(OUTAGE_ERRORS, unavailable),
    )
