"""The reconcile step: before a run retrains or publishes, production is what is published.

A run killed after the registry moved ``production`` and before the pointer followed leaves the
two apart; whichever run comes next (or ``driftloop serve`` at start) finishes that publish, so a
superseded run never strands a production version (:mod:`driftloop.model.reconcile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from driftloop.pipeline.steps.context import RunContext, Skip
from driftloop.pipeline.steps.result import StepResult

if TYPE_CHECKING:
    from driftloop.config import PipelineConfig
    from driftloop.model.reconcile import Reconciled

__all__ = ["ReconcileResult", "reconcile", "reconcile_production"]


@dataclass(frozen=True, slots=True)
class ReconcileResult(StepResult):
    """A half-done publish finished: the production version, the version the pointer named
    before (None: no pointer), what differed, and the files published."""

    production: int
    pointed: int | None
    problems: tuple[str, ...]
    files: tuple[dict[str, Any], ...] = ()
    line: str = ""

    def summary(self) -> str:
        return self.line


def reconcile_production(config: PipelineConfig) -> Reconciled | None:
    """Reconcile the config's production model with what is published; None when the config
    publishes nothing (no model, or ``on_drift.publish`` off)."""
    if config.model is None or not config.on_drift.publish:
        return None
    from driftloop.actions.publish import publisher_for
    from driftloop.model.reconcile import reconcile as run_reconcile
    from driftloop.model.registry import Registry

    stores = config.stores
    registry = Registry.open(
        stores.mlflow.get_secret_value(), stores.mlflow_artifacts, stores.s3_endpoint_url
    )
    return run_reconcile(registry, publisher_for(stores), config.model.name)


def reconcile(ctx: RunContext) -> ReconcileResult:
    """Publish the registry's production version when what is published differs from it."""
    cfg = ctx.config
    if cfg.model is None:
        raise Skip("no model is configured")
    if not cfg.on_drift.publish:
        raise Skip("on_drift.publish is off")
    found = reconcile_production(cfg)
    if found is None or found.production is None:
        raise Skip("no production version yet")
    if found.consistent:
        raise Skip(found.line())
    return ReconcileResult(
        found.production,
        found.pointed,
        found.problems,
        tuple(p.to_dict() for p in found.published),
        found.line(),
    )
