"""The retrain step: train with the team's code, register, promote only if better."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftloop.pipeline.steps.concept import ConceptResult
from driftloop.pipeline.steps.context import RunContext
from driftloop.pipeline.steps.detect import DetectResult
from driftloop.pipeline.steps.policy import require_drift
from driftloop.pipeline.steps.result import StepResult

if TYPE_CHECKING:
    import polars as pl

__all__ = ["RetrainResult", "retrain", "training_frame"]


@dataclass(frozen=True, slots=True)
class RetrainResult(StepResult):
    """The version registered and what became of it (``promoted`` to production or not)."""

    name: str
    version: int
    promoted: bool
    reason: str
    metric: str
    score: float | None
    champion_version: int | None
    champion_score: float | None
    run_id: str | None
    published: tuple[dict[str, Any], ...] = ()
    seconds: float = 0.0

    def summary(self) -> str:
        verdict = "promoted" if self.promoted else "rejected"
        return f"v{self.version} {verdict}: {self.reason}"


def _reference_rows(ctx: RunContext) -> pl.DataFrame:
    """The reference's rows: the run folder's, or, when the reference is a stored profile (the
    detect path never needed rows), read from its source now that a retrain needs them."""
    source = ctx.config.reference
    if not source.stored_profile or ctx.file("reference.parquet").exists():
        return ctx.frame("reference.parquet", "fetch_reference")
    from driftloop.pipeline.steps.fetch import reference_rows

    return reference_rows(ctx)[0]


def training_frame(ctx: RunContext) -> pl.DataFrame:
    """The reference plus the windows this pipeline appended up to this run's window (a re-run
    of an old window never trains on later data), on the reference's columns."""
    import polars as pl

    from driftloop.data.warehouse import META_COLUMNS, Warehouse
    from driftloop.errors import EmptyDataError

    cfg = ctx.config
    reference = _reference_rows(ctx)
    warehouse = Warehouse(cfg.stores.warehouse.get_secret_value())
    try:
        appended = warehouse.read(
            cfg.append.table,
            pipeline=cfg.pipeline,
            date_column=META_COLUMNS[2] if ctx.end is not None else None,
            end=ctx.end,
        )
    except EmptyDataError:  # nothing appended up to this window: train on the reference
        appended = reference.clear()
    finally:
        warehouse.close()
    common = [c for c in reference.columns if c in appended.columns]
    schema = reference.select(common).schema
    frame = pl.concat([reference.select(common), appended.select(common).cast(schema)])
    time_column = cfg.training.time_column if cfg.training else None
    if (
        ctx.end is not None
        and time_column in frame.columns
        and frame[time_column].dtype.is_temporal()
    ):
        frame = frame.filter(pl.col(time_column).cast(pl.Date) <= ctx.end)
    return frame


def retrain(ctx: RunContext) -> RetrainResult:
    """Train with the team's code, register, and promote only if better than production."""
    detected = require_drift(ctx, "retrain")  # before the imports: a skipped retrain is free
    from driftloop.drift.results import DriftReport
    from driftloop.model.lifecycle import retrain as run_retrain
    from driftloop.model.registry import Registry

    cfg = ctx.config
    assert cfg.training is not None and cfg.model is not None  # the config requires them
    registry = Registry.open(
        cfg.stores.mlflow.get_secret_value(),
        cfg.stores.mlflow_artifacts,
        cfg.stores.s3_endpoint_url,
    )
    earlier = registry.decided_version_of_run(cfg.model.name, ctx.run_id)
    if earlier is not None:  # a resumed run: the version this run registered is already decided
        return RetrainResult.from_dict(earlier)
    t = cfg.training
    result = run_retrain(
        training_frame(ctx),
        t,
        registry,
        name=cfg.model.name,
        experiment=cfg.model.experiment or cfg.pipeline,
        trigger=_trigger(ctx, detected),
        drift=DriftReport.from_json(ctx.file("report.json")),
        margin=t.margin,
        intended_use=t.intended_use,
        report_path=Path(detected.report_html),
        run_id=ctx.run_id,
        trusted_types=tuple(cfg.model.trusted_types),
    )
    return RetrainResult.from_dict(result.to_dict())


def _trigger(ctx: RunContext, detected: DetectResult) -> str:
    """Why this version was trained, for the registry: the run and the drift that fired."""
    reasons = list(detected.reasons)
    concept = ctx.result("concept", ConceptResult)
    if concept is not None and concept.concept_drift:
        reasons.append("concept drift in " + ", ".join(concept.alerted))
    trigger = f"{ctx.trigger} run {ctx.run_id}: " + "; ".join(reasons)
    if detected.drifted:
        trigger += " (" + ", ".join(detected.drifted[:8]) + ")"
    return trigger
