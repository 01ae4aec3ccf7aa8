"""The built-in runner: runs the steps in order, records every run, resumes failed ones.

A run is recorded in the warehouse database before its first step; each step's status,
duration and result are recorded as it ends. ``resume`` continues a failed run from its failed
step: finished steps are not repeated (their results and files are reused), and every step is
idempotent where it writes (the warehouse append is keyed by the window, the outbox by run and
channel), so nothing is duplicated. Two runs of one pipeline never overlap (a lock row with a
heartbeat; a lock left by a dead process is taken over).

Order: fetch_reference, fetch_current, detect, append, retrain, publish, alert. The alert comes
last so it can say what happened to the model, and it is sent even when retrain or publish
failed: a failed retrain must not silence a drift alert.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from driftloop.config import PipelineConfig
from driftloop.data.identifiers import check_run_id
from driftloop.errors import ConfigError, SourceError
from driftloop.pipeline.execution import StepEnd, execute
from driftloop.pipeline.records import RunStore, new_run_id
from driftloop.pipeline.steps import STEPS, RunContext, model_outcome

__all__ = ["RunOutcome", "Runner", "default_window"]

ALWAYS_AFTER_FAILURE = ("alert",)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    run_id: str
    status: str  # succeeded, failed, empty
    window: tuple[str, str]
    results: dict[str, dict[str, Any]]
    error: str | None = None

    @property
    def verdict(self) -> dict[str, Any] | None:
        return self.results.get("detect")


def default_window(config: PipelineConfig, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The window a run checks when none is given: the config's fixed one, else the last N days."""
    if config.current.start is not None or config.current.end is not None:
        if config.current.start is None or config.current.end is None:
            raise ConfigError("Set both current.start and current.end, or neither.")
        return config.current.start, config.current.end
    days = config.schedule.window_days if config.schedule else 7
    end = (today or dt.date.today()) - dt.timedelta(days=1)
    return end - dt.timedelta(days=days - 1), end


class Runner:
    """Runs one pipeline's loop and records it."""

    def __init__(self, config: PipelineConfig, *, printer: Callable[[str], None] = print) -> None:
        self.config = config
        self.printer = printer
        self._stop: threading.Event | None = None
        self.store = RunStore(config.stores.warehouse.get_secret_value())

    def run(
        self,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        trigger: str = "manual",
        resume: str | None = None,
        on_step: Callable[[str, str, dict[str, Any] | None], None] | None = None,
        run_id: str | None = None,
        stop: threading.Event | None = None,
        steps: Sequence[str] | None = None,
    ) -> RunOutcome:
        """Run (or resume) the loop for one window.

        ``run_id`` names a new run (default: generated). ``stop``, when set, ends the run between
        two steps as ``interrupted``: resumable, nothing half-done. ``steps`` runs only those
        steps of a new run (in the loop's order; a resumed run keeps the steps it was created with).
        """
        cfg = self.config
        self._stop = stop
        if run_id is not None:
            check_run_id(run_id)
        if resume is not None:
            run_id, start, end, trigger, done, names = self._reopen(check_run_id(resume))
            self.store.acquire(cfg.pipeline, run_id)
            self._interrupt_orphans(run_id)
        else:
            if start is None or end is None:
                start, end = default_window(cfg)
            if end < start:
                raise ConfigError(f"The window ends ({end}) before it starts ({start}).")
            run_id = run_id or new_run_id()
            unknown = sorted(set(steps or ()) - set(STEPS))
            if unknown:
                raise ConfigError(f"Unknown steps {unknown}. Steps: {', '.join(STEPS)}.")
            names = [name for name in STEPS if steps is None or name in steps]
            # the lock first: a run that cannot take it leaves no record behind
            self.store.acquire(cfg.pipeline, run_id)
            try:
                self._interrupt_orphans(run_id)
                self.store.create_run(cfg.pipeline, trigger, start, end, names, run_id)
            except BaseException:
                self.store.release(cfg.pipeline, run_id)
                raise
            done = {}
        ctx = RunContext(cfg, run_id, start, end, trigger, dict(done), self.printer)
        try:
            return self._steps(ctx, done, on_step, names)
        except SourceError as err:
            raise SourceError(
                f"{err} The run record of {run_id} could not be updated; once the database is "
                f"back, resume with --resume {run_id}."
            ) from None
        finally:
            try:
                self.store.release(cfg.pipeline, run_id)
            except SourceError:
                pass  # the warehouse is down; the lock goes stale with this process

    def _interrupt_orphans(self, run_id: str) -> None:
        for orphan in self.store.interrupt_orphans(self.config.pipeline, keep=run_id):
            self.printer(
                f"run {orphan} was left running by a process that ended; marked interrupted "
                f"(resume it with --resume {orphan})"
            )

    def _reopen(
        self, run_id: str
    ) -> tuple[str, dt.date | None, dt.date | None, str, dict[str, dict[str, Any]], list[str]]:
        record = self.store.run(run_id)
        if record is None:
            raise ConfigError(
                f"No run '{run_id}' in the warehouse. List runs with: driftloop runs."
            )
        if record["pipeline"] != self.config.pipeline:
            raise ConfigError(
                f"Run '{run_id}' belongs to pipeline '{record['pipeline']}', "
                f"not '{self.config.pipeline}'."
            )
        if record["status"] in ("succeeded", "empty", "superseded"):
            raise ConfigError(f"Run '{run_id}' already {record['status']}; nothing to resume.")
        holder = self.store.holder(self.config.pipeline)
        ours = holder is not None and holder["pid"] == os.getpid()  # left by this very process
        if holder is not None and holder["run_id"] == run_id and not ours:
            from driftloop.pipeline.records import LockedError

            raise LockedError(
                f"Run '{run_id}' is still running (pid {holder['pid']} on {holder['host']})."
            )
        self.store.reopen_run(run_id)
        done = {
            s["step"]: s["result"] or {}
            for s in record["steps"]
            if s["status"] in ("done", "skipped")
        }
        start = dt.date.fromisoformat(record["window_start"]) if record["window_start"] else None
        end = dt.date.fromisoformat(record["window_end"]) if record["window_end"] else None
        names = [s["step"] for s in record["steps"]]
        return run_id, start, end, record["trigger"], done, names

    def _steps(
        self,
        ctx: RunContext,
        done: dict[str, dict[str, Any]],
        on_step: Callable[[str, str, dict[str, Any] | None], None] | None,
        names: list[str],
    ) -> RunOutcome:
        failure: str | None = None
        status = "succeeded"
        for name, step in ((n, STEPS[n]) for n in names):
            if name in done:
                continue
            if self._stop is not None and self._stop.is_set():
                self.store.finish_run(ctx.run_id, "interrupted", error=f"stopped before {name}")
                return RunOutcome(
                    ctx.run_id, "interrupted", ctx.window, ctx.results, f"stopped before {name}"
                )
            if failure is not None and name not in ALWAYS_AFTER_FAILURE:
                continue
            if failure is not None and "detect" not in ctx.results:
                continue
            try:
                self.store.heartbeat(self.config.pipeline, ctx.run_id)
                self.store.start_step(ctx.run_id, name)
            except SourceError as err:
                raise SourceError(f"Step '{name}' could not start: {err}") from None
            end = execute(name, step, ctx)
            if end.status == "skipped":
                self._finish_step(ctx, name, end, end.result)
                ctx.results[name] = end.result
                self._tell(on_step, name, "skipped", end.result)
                continue
            if end.status == "empty":
                self._finish_step(ctx, name, end, None)
                self._tell(on_step, name, "empty", end.result)
                self.store.finish_run(ctx.run_id, "empty", error=end.error)
                return RunOutcome(ctx.run_id, "empty", ctx.window, ctx.results, end.error)
            if end.status == "failed":
                failure = f"{name}: {end.error}"
                self._finish_step(ctx, name, end, None)
                if name in ("retrain", "publish"):  # the alert says what happened to the model
                    ctx.results[name] = {"error": end.error}
                self._tell(on_step, name, "failed", end.result)
                status = "failed"
                continue
            ctx.results[name] = end.result
            self._finish_step(ctx, name, end, end.result)
            self._tell(on_step, name, "done", end.result)
        if status == "succeeded" and ctx.start is not None:
            for older in self.store.supersede(self.config.pipeline, ctx.start, ctx.end, ctx.run_id):
                self.printer(f"run {older} of the same window is superseded by this one")
        verdict = ctx.results.get("detect")
        self.store.finish_run(
            ctx.run_id,
            status,
            verdict=verdict,
            model_outcome=model_outcome(ctx.results, ctx.run_id) or None,
            report_path=verdict.get("report_html") if verdict else None,
            error=failure,
        )
        return RunOutcome(ctx.run_id, status, ctx.window, ctx.results, failure)

    def _finish_step(
        self, ctx: RunContext, name: str, end: StepEnd, result: dict[str, Any] | None
    ) -> None:
        try:
            self.store.finish_step(ctx.run_id, name, end.status, end.seconds, result, end.error)
        except SourceError:
            raise SourceError(f"Step '{name}' ended {end.status} ({end.error})") from None

    @staticmethod
    def _tell(
        on_step: Callable[[str, str, dict[str, Any] | None], None] | None,
        name: str,
        status: str,
        result: dict[str, Any] | None,
    ) -> None:
        if on_step is not None:
            on_step(name, status, result)
