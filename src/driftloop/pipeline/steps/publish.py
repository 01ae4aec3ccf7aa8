"""The publish step: the promoted version to S3 or a local folder; what became of the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from driftloop.pipeline.steps.context import RunContext, Skip
from driftloop.pipeline.steps.policy import require_drift
from driftloop.pipeline.steps.reconcile import ReconcileResult
from driftloop.pipeline.steps.result import Failed, StepResult
from driftloop.pipeline.steps.retrain import RetrainResult

__all__ = ["PublishResult", "model_outcome", "publish"]


@dataclass(frozen=True, slots=True)
class PublishResult(StepResult):
    """The version published and its files (uri, sha256, size)."""

    version: int
    files: tuple[dict[str, Any], ...]

    def summary(self) -> str:
        return f"v{self.version}: {len(self.files)} files"


def publish(ctx: RunContext) -> PublishResult:
    """Publish the promoted version (S3 or a local folder)."""
    require_drift(ctx, "publish")
    from driftloop.actions.publish import publisher_for
    from driftloop.model.lifecycle import publish_version
    from driftloop.model.registry import Registry

    trained = ctx.result("retrain", RetrainResult)
    if trained is None:
        raise Skip("nothing was retrained")
    if not trained.promoted:
        raise Skip(f"version {trained.version} was not promoted")
    stores = ctx.config.stores
    registry = Registry.open(
        stores.mlflow.get_secret_value(), stores.mlflow_artifacts, stores.s3_endpoint_url
    )
    production = registry.production_version(trained.name)
    if production != trained.version:  # a resumed run, overtaken: never point back at it
        raise Skip(f"v{trained.version} is no longer production (v{production} is)")
    published = publish_version(registry, publisher_for(stores), trained.name, trained.version)
    return PublishResult(trained.version, tuple(p.to_dict() for p in published))


def model_outcome(ctx: RunContext) -> str:
    """What happened to the model, in one line for the alert and the run record."""
    reconciled = ctx.result("reconcile", ReconcileResult)
    outcome = _retrain_outcome(ctx)
    if reconciled is None:
        return outcome
    return reconciled.line + (f"; {outcome}" if outcome else "")


def _retrain_outcome(ctx: RunContext) -> str:
    retrained = ctx.results.get("retrain")
    if isinstance(retrained, Failed):
        return f"retrain failed: {retrained.error}"
    if not isinstance(retrained, RetrainResult):
        return ""
    verdict = "promoted to production" if retrained.promoted else "rejected"
    text = f"v{retrained.version} {verdict} ({retrained.reason})"
    published = ctx.results.get("publish")
    if isinstance(published, PublishResult) and published.files:
        text += f"; published {len(published.files)} files"
    elif isinstance(published, Failed) and retrained.promoted:
        text = (
            f"v{retrained.version} promoted in MLflow but NOT published: {published.error}"
            f" — resume with: driftloop run --resume {ctx.run_id}"
        )
    return text
