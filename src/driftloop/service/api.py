"""The run API of ``driftloop serve``: ``/runs``, ``/runs/{id}``, ``/healthz``, ``/metrics``.

``/runs/{id}`` answers from the moment a trigger is accepted (its id is its run's id): the run's
record once the run has begun, with ``trigger_state`` (the queue's row: state, attempts, next
try); before that, the trigger alone (``status`` ``queued``). ``/healthz`` reads every
pipeline's database, so an outage shows there (503, ``service/outage.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from driftloop.config import PipelineConfig
from driftloop.pipeline.records import RunStore
from driftloop.service.coordinator import Coordinator
from driftloop.service.triggers import TriggerStore

__all__ = ["RunApi"]

_MAX_LIMIT = 1000


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


class RunApi:
    """The run records, the queue and the coordinator's state of ``configs``, read over HTTP."""

    def __init__(
        self,
        configs: dict[str, PipelineConfig],
        coordinator: Coordinator,
        next_runs: Callable[[], dict[str, str | None]] | None = None,
    ) -> None:
        self.configs, self.coordinator, self.next_runs = configs, coordinator, next_runs
        urls = {name: c.stores.warehouse.get_secret_value() for name, c in configs.items()}
        self.stores = {name: RunStore(url) for name, url in urls.items()}
        self.triggers = {name: TriggerStore(url) for name, url in urls.items()}

    def routes(self) -> list[Route]:
        return [
            Route("/runs", self.runs),
            Route("/runs/{run_id}", self.run),
            Route("/metrics", self.metrics),
            Route("/healthz", self.healthz),
        ]

    async def runs(self, request: Request) -> Response:
        pipeline = request.query_params.get("pipeline")
        limit_text = request.query_params.get("limit", "50")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= _MAX_LIMIT:
            message = f"limit must be a whole number from 1 to {_MAX_LIMIT}; got {limit_text!r}"
            return JSONResponse({"error": message}, 400)
        limit = int(limit_text)
        names = [pipeline] if pipeline else list(self.configs)
        if pipeline and pipeline not in self.configs:
            return JSONResponse({"error": f"unknown pipeline '{pipeline}'"}, 404)
        found = await run_in_threadpool(
            lambda: [r for n in names for r in self.stores[n].runs(n, limit)]
        )
        found.sort(key=lambda r: (r["started_at"], r["run_id"]), reverse=True)
        return JSONResponse(json.loads(json.dumps(found[:limit], default=str)))

    async def run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        return await run_in_threadpool(_run_answer, self.stores, self.triggers, run_id)

    async def metrics(self, request: Request) -> Response:
        registry = self.coordinator.metrics.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(self, request: Request) -> Response:
        pipelines = await run_in_threadpool(self._health)
        cap = self.coordinator.max_concurrent_runs
        return JSONResponse({"status": "ok", "running": self.coordinator.running_count(),
                             "max_concurrent_runs": cap, "pipelines": pipelines})  # fmt: skip

    def _health(self) -> dict[str, Any]:
        for store in self.stores.values():
            store.ping()
        upcoming = self.next_runs() if self.next_runs is not None else {}
        return {
            n: {**self.coordinator.status(n), "next_run": upcoming.get(n)} for n in self.configs
        }
