"""When an action (retrain, publish, alert) runs: the ``on_drift`` trigger policy."""

from __future__ import annotations

from typing import Literal

from driftloop.pipeline.steps.concept import ConceptResult
from driftloop.pipeline.steps.context import RunContext, Skip
from driftloop.pipeline.steps.detect import DetectResult

__all__ = ["require_drift"]


def require_drift(ctx: RunContext, action: Literal["retrain", "publish", "alert"]) -> DetectResult:
    """The run's verdict when drift that matters fired, ``on_drift.<action>`` is on and no
    earlier run of the window already acted on it (re-running an old window registers and pages
    nothing twice, unless forced); else raise :class:`Skip` saying why."""
    detected = ctx.result("detect", DetectResult)
    if detected is None:
        raise Skip("no drift verdict (detect did not finish)")
    concept = ctx.result("concept", ConceptResult)
    if not detected.fires and not (concept is not None and concept.fires):
        raise Skip("no drift that matters")
    if not getattr(ctx.config.on_drift, action):
        raise Skip(f"on_drift.{action} is off")
    if ctx.decided_by is not None:
        raise Skip(f"window already decided by run {ctx.decided_by} (--force acts again)")
    return detected
