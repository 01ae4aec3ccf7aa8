"""The built-in runner: runs the steps in order, records every run, resumes failed ones.

A run is recorded in the warehouse database before its first step; each step's status,
duration and result are recorded as it ends. ``resume`` continues a failed run from its failed
step: finished steps are not repeated (their results and files are reused), and every step is
idempotent where it writes (the warehouse append is keyed by the window, the outbox by run and
channel), so nothing is duplicated. Two runs of one pipeline never overlap (a lock row with a
heartbeat; a lock left by a dead process is taken over).

The order is the step table's (:data:`driftloop.pipeline.steps.STEPS`). The alert comes last so
it can say what happened to the model, and it is sent even when retrain or publish failed (it is
declared ``after_failure``): a failed retrain must not silence a drift alert.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from driftloop.config import PipelineConfig
from driftloop.data.identifiers import check_run_id
from driftloop.errors import ConfigError, LockedError, SourceError
from driftloop.pipeline.execution import StepEnd, execute
from driftloop.pipeline.records import RunStore, new_run_id
from driftloop.pipeline.steps import (
    STEPS,
    DetectResult,
    Failed,
    RunContext,
    Step,
    StepResult,
    data_verdict,
    model_outcome,
    read_result,
    step_names,
    verdict_steps,
)

__all__ = ["OnStep", "RunOutcome", "Runner", "default_window"]

OnStep = Callable[[str, str, StepResult], None]
"""Told of each step as it ends: its name, status (done, skipped, failed, empty) and result."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    run_id: str
    status: str  # succeeded, failed, empty, interrupted
    window: tuple[str, str]
    results: dict[str, StepResult]
    error: str | None = None

    @property
    def verdict(self) -> DetectResult | None:
        """The data-drift verdict among the verdict steps' results (``Step.verdict``)."""
        return data_verdict(
            self.results[s.name] for s in STEPS if s.verdict and s.name in self.results
        )


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
        on_step: OnStep | None = None,
        run_id: str | None = None,
        stop: threading.Event | None = None,
        steps: Sequence[str] | None = None,
        rebuild_profile: bool = False,
        force: bool = False,
    ) -> RunOutcome:
        """Run (or resume) the loop for one window.

        ``run_id`` names a new run (default: generated). ``stop``, when set, ends the run between
        two steps as ``interrupted``: resumable, nothing half-done. ``steps`` runs only those
        steps of a new run (in the loop's order; a resumed run keeps the steps it was created with).
        ``rebuild_profile`` rebuilds a stored reference profile whatever its source says.
        A window an earlier run already acted on is checked again but not acted on twice
        (retrain, publish and alert skipped, said in one line) unless ``force``.
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
            unknown = sorted(set(steps or ()) - set(step_names()))
            if unknown:
                raise ConfigError(f"Unknown steps {unknown}. Steps: {', '.join(step_names())}.")
            names = [name for name in step_names() if steps is None or name in steps]
            # the lock first: a run that cannot take it leaves no record behind
            self.store.acquire(cfg.pipeline, run_id)
            try:
                self._interrupt_orphans(run_id)
                self.store.create_run(cfg.pipeline, trigger, start, end, names, run_id)
            except BaseException:
                self.store.release(cfg.pipeline, run_id)
                raise
            done = {}
        ctx = RunContext(
            cfg, run_id, start, end, trigger, dict(done), self.printer, rebuild_profile,
            verdict_steps(cfg),
        )  # fmt: skip
        ctx.decided_by = None if force else self._decided(ctx, names)
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

    def _decided(self, ctx: RunContext, names: list[str]) -> str | None:
        """The earlier run that already acted on this window, said in one line (or None)."""
        if not {"retrain", "publish", "alert"} & set(names):
            return None
        decided = self.store.decided_run(self.config.pipeline, ctx.start, ctx.end, ctx.run_id)
        if decided is not None:
            self.printer(
                f"window {ctx.start}..{ctx.end} was already decided by run {decided}: checked "
                "again, but nothing is retrained, published or alerted (--force acts again)"
            )
        return decided

    def _interrupt_orphans(self, run_id: str) -> None:
        for orphan in self.store.interrupt_orphans(self.config.pipeline, keep=run_id):
            self.printer(
                f"run {orphan} was left running by a process that ended; marked interrupted "
                f"(resume it with --resume {orphan})"
            )

    def _reopen(
        self, run_id: str
    ) -> tuple[str, dt.date | None, dt.date | None, str, dict[str, StepResult], list[str]]:
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
            raise LockedError(
                f"Run '{run_id}' is still running (pid {holder['pid']} on {holder['host']})."
            )
        self.store.reopen_run(run_id)
        done = {
            s["step"]: read_result(s["step"], s["status"], s["result"])
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
        done: dict[str, StepResult],
        on_step: OnStep | None,
        names: list[str],
    ) -> RunOutcome:
        failure: str | None = None
        for step in STEPS:
            if step.name not in names or step.name in done:
                continue
            if not self._runs_now(step, ctx, failure):
                continue
            if self._stop is not None and self._stop.is_set():
                why = f"stopped before {step.name}"
                self.store.finish_run(ctx.run_id, "interrupted", error=why)
                return RunOutcome(ctx.run_id, "interrupted", ctx.window, ctx.results, why)
            end = self._run_step(step, ctx)
            if on_step is not None:
                on_step(step.name, end.status, end.result)
            if end.status == "empty":
                self.store.finish_run(ctx.run_id, "empty", error=end.error)
                return RunOutcome(ctx.run_id, "empty", ctx.window, ctx.results, end.error)
            if end.status == "failed":
                failure = f"{step.name}: {end.error}"
        return self._finish(ctx, failure)

    @staticmethod
    def _runs_now(step: Step, ctx: RunContext, failure: str | None) -> bool:
        """Every step runs, until one fails; then only ``after_failure`` steps whose needs are
        done (the alert, when there is a verdict to tell)."""
        if failure is None:
            return True
        return step.after_failure and all(
            n in ctx.results and not isinstance(ctx.results[n], Failed) for n in step.needs
        )

    def _run_step(self, step: Step, ctx: RunContext) -> StepEnd:
        """Run one step and record how it ended; its result joins the context unless it failed
        (then the failure joins it, so the alert can say what happened to the model)."""
        try:
            self.store.heartbeat(self.config.pipeline, ctx.run_id)
            self.store.start_step(ctx.run_id, step.name)
        except SourceError as err:
            raise SourceError(f"Step '{step.name}' could not start: {err}") from None
        end = execute(step, ctx)
        recorded = end.result if end.status in ("done", "skipped") else None
        try:
            self.store.finish_step(
                ctx.run_id,
                step.name,
                end.status,
                end.seconds,
                recorded.to_dict() if recorded is not None else None,
                end.error,
            )
        except SourceError:
            raise SourceError(f"Step '{step.name}' ended {end.status} ({end.error})") from None
        if end.status != "empty":
            ctx.results[step.name] = end.result
        return end

    def _finish(self, ctx: RunContext, failure: str | None) -> RunOutcome:
        status = "failed" if failure is not None else "succeeded"
        if status == "succeeded" and ctx.start is not None:
            for older in self.store.supersede(self.config.pipeline, ctx.start, ctx.end, ctx.run_id):
                self.printer(f"run {older} of the same window is superseded by this one")
        verdict = data_verdict(ctx.verdict_results())
        outcome = model_outcome(ctx)
        self.store.finish_run(
            ctx.run_id,
            status,
            verdict=verdict.to_dict() if verdict is not None else None,
            model_outcome=outcome or None,
            report_path=verdict.report_html if verdict is not None else None,
            error=failure,
        )
        if verdict is not None:
            from pathlib import Path

            from driftloop.report.html import stamp_model_outcome

            stamp_model_outcome(Path(verdict.report_html), outcome)
        return RunOutcome(ctx.run_id, status, ctx.window, ctx.results, failure)
