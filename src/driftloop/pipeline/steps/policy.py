"""When an action (retrain, publish, alert) runs: the ``on_drift`` trigger policy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from driftloop.pipeline.steps.context import RunContext, Skip
from driftloop.pipeline.steps.detect import DetectResult
from driftloop.pipeline.steps.result import StepResult, Verdict

__all__ = ["data_verdict", "require_drift"]


def data_verdict(results: Iterable[StepResult]) -> DetectResult | None:
    """The data-drift verdict among verdict steps' results (the run record keeps it)."""
    return next((r for r in results if isinstance(r, DetectResult)), None)


def require_drift(ctx: RunContext, action: Literal["retrain", "publish", "alert"]) -> DetectResult:
    """The run's data-drift verdict when a verdict step (``Step.verdict``) fired,
    ``on_drift.<action>`` is on and no earlier run of the window already acted on it (re-running
    an old window registers and pages nothing twice, unless forced); else raise :class:`Skip`
    saying why."""
    verdicts = ctx.verdict_results()
    detected = data_verdict(verdicts)
    if detected is None:
        raise Skip("no drift verdict (detect did not finish)")
    if not any(isinstance(r, Verdict) and r.fires for r in verdicts):
        raise Skip("no drift that matters")
    if not getattr(ctx.config.on_drift, action):
        raise Skip(f"on_drift.{action} is off")
    if ctx.decided_by is not None:
        raise Skip(f"window already decided by run {ctx.decided_by} (--force acts again)")
    return detected
