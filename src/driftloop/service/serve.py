"""``driftloop serve``: the scheduler, the outbox timer and the HTTP app in one process.

On SIGTERM the server stops taking triggers, lets the running step finish, leaves the run
``interrupted`` (resumable) and its trigger queued, and exits; queued triggers stay in the
pipeline's database (``service/triggers.py``). At the next start it finishes any half-done publish
of each pipeline's production model, takes back triggers a killed server left running, and runs
the queue (resuming interrupted runs first: they are older).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
import uvicorn

from driftloop.config import PipelineConfig
from driftloop.errors import ConfigError
from driftloop.service.app import create_app
from driftloop.service.connection import HeaderDeadlineProtocol
from driftloop.service.coordinator import Coordinator
from driftloop.service.metrics import LoopMetrics
from driftloop.service.outage import one_line, quiet_tracebacks
from driftloop.service.scheduler import build_scheduler

__all__ = ["serve"]

log = logging.getLogger("driftloop.serve")
SHUTDOWN_GRACE = 300.0


def _drain_outboxes(configs: dict[str, PipelineConfig], coordinator: Coordinator) -> None:
    from driftloop.actions.notify import senders_for
    from driftloop.actions.outbox import Outbox

    for name, config in configs.items():
        engine = sa.create_engine(config.stores.warehouse.get_secret_value())
        try:
            outbox = Outbox(engine)
            result = outbox.drain(
                name, senders_for(config.alerts, lambda text: log.info("%s", text))
            )
            coordinator.metrics.pending_alerts.labels(name).set(result.pending)
        except Exception as err:  # the timer must survive a database hiccup; it tries again later
            log.warning("draining the outbox of %s failed: %s", name, one_line(err))
        finally:
            engine.dispose()


def reconcile_at_start(configs: dict[str, PipelineConfig]) -> list[str]:
    """Each pipeline's production model reconciled with what is published, under the
    pipeline's lock (a pipeline running elsewhere reconciles in its own run); one line each."""
    from driftloop.errors import DriftloopError, LockedError
    from driftloop.pipeline.records import RunStore, new_run_id
    from driftloop.pipeline.steps.reconcile import reconcile_production

    lines = []
    for name, config in configs.items():
        holder = f"serve-{new_run_id()}"
        try:
            store = RunStore(config.stores.warehouse.get_secret_value())
            store.acquire(name, holder)
        except LockedError as err:
            lines.append(f"{name}: not reconciled now: {err}")
            continue
        except DriftloopError as err:
            lines.append(f"{name}: production not reconciled: {err}")
            continue
        try:
            found = reconcile_production(config)
            lines.append(f"{name}: {found.line() if found else 'publishes nothing'}")
        except Exception as err:  # serve starts anyway; the pipeline's next run tries again
            lines.append(f"{name}: production not reconciled: {err}")
        finally:
            with contextlib.suppress(DriftloopError):
                store.release(name, holder)
    return lines


def serve(
    configs: list[PipelineConfig],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    drain_seconds: float = 60.0,
    max_concurrent_runs: int | None = None,
) -> None:
    """Run the server until SIGTERM/SIGINT, at most ``max_concurrent_runs`` runs of different
    pipelines at once (default: the usable cores)."""
    by_name: dict[str, PipelineConfig] = {}
    for config in configs:
        if config.pipeline in by_name:
            raise ConfigError(
                f"Two configs name pipeline '{config.pipeline}'; names must be unique."
            )
        by_name[config.pipeline] = config
    from driftloop import redaction
    from driftloop.service.dashboard import check_exposure

    redaction.install()
    quiet_tracebacks()
    exposed = check_exposure(by_name, host)
    if exposed is not None:
        raise ConfigError(exposed)
    from driftloop.profiles.workers import default_workers

    cap = max_concurrent_runs or default_workers()
    coordinator = Coordinator(by_name, LoopMetrics(), max_concurrent_runs=cap)
    schedules = {n: c.schedule for n, c in by_name.items() if c.schedule is not None}
    scheduler = build_scheduler(
        configs[0].stores.warehouse.get_secret_value(), schedules, coordinator
    )
    scheduler.add_job(
        _drain_outboxes,
        "interval",
        seconds=drain_seconds,
        args=[by_name, coordinator],
        id="driftloop:outbox",
        jobstore="memory",
        replace_existing=True,
    )

    def next_runs() -> dict[str, str | None]:
        jobs = {name: scheduler.get_job(f"driftloop:{name}") for name in by_name}
        return {
            name: job.next_run_time.isoformat() if job and job.next_run_time else None
            for name, job in jobs.items()
        }

    app = create_app(by_name, coordinator, next_runs)

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        scheduler.start(paused=True)  # fire times counted from now; one missed meanwhile runs
        for line in reconcile_at_start(by_name):
            log.info("%s", line)
        scheduler.resume()
        for joined in coordinator.resume_unfinished():
            log.info("resuming run %s", joined.run_id)
        coordinator.start()
        log.info("serving %s on http://%s:%s", ", ".join(by_name), host, port)
        yield
        coordinator.stop.set()
        scheduler.shutdown(wait=False)
        if not coordinator.wait_idle(SHUTDOWN_GRACE):
            log.warning(
                "a run did not finish its step within %.0f s; it will be resumed", SHUTDOWN_GRACE
            )

    app.router.lifespan_context = lifespan
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=HeaderDeadlineProtocol,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=30,
    )
