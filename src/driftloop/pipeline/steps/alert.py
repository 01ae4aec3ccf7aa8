"""The alert step: queue the alert in the outbox once per run and channel, deliver what waits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from driftloop.pipeline.steps.context import RunContext, Skip
from driftloop.pipeline.steps.policy import require_drift
from driftloop.pipeline.steps.publish import model_outcome
from driftloop.pipeline.steps.result import StepResult

if TYPE_CHECKING:
    from driftloop.actions.notify import Alert
    from driftloop.config import PipelineConfig

__all__ = ["AlertResult", "alert", "report_link"]


@dataclass(frozen=True, slots=True)
class AlertResult(StepResult):
    """Each channel's status for this run's alert (``queued``), and the outbox's deliveries."""

    queued: dict[str, str] = field(hash=False)
    sent: int
    failed: int
    pending: int

    def summary(self) -> str:
        return f"queued {self.queued}; sent {self.sent}, pending {self.pending}"


def report_link(cfg: PipelineConfig, path: str) -> str:
    """Where people open a report: ``reports.base_url`` + its path under the reports folder
    (a dashboard or an S3 website), or the runner's local path when no base URL is set."""
    base = cfg.reports.base_url
    if not base:
        return path
    try:
        relative = Path(path).resolve().relative_to(Path(cfg.stores.reports).resolve())
    except ValueError:
        relative = Path(Path(path).name)
    return base.rstrip("/") + "/" + relative.as_posix()


def alert(ctx: RunContext) -> AlertResult:
    """Queue the alert in the outbox (once per run and channel), then deliver everything pending."""
    import datetime as dt

    import sqlalchemy as sa

    from driftloop.actions.notify import senders_for
    from driftloop.actions.outbox import Outbox

    cfg = ctx.config
    senders = senders_for(cfg.alerts, ctx.printer)
    engine = sa.create_engine(cfg.stores.warehouse.get_secret_value())
    try:
        outbox = Outbox(engine)
        statuses: dict[str, str] = {}
        try:
            message = _message(ctx)
            cooldown = dt.timedelta(hours=cfg.alerts.cooldown_hours)
            statuses = outbox.enqueue(
                cfg.pipeline, ctx.run_id, message, [s.channel for s in senders], cooldown
            )
        except Skip:
            pass  # nothing new to say; still deliver what earlier runs left pending
        drained = outbox.drain(cfg.pipeline, senders)
    finally:
        engine.dispose()
    if not statuses and not drained.sent and not drained.failed:
        raise Skip("no drift that matters and nothing pending")
    return AlertResult(statuses, drained.sent, drained.failed, drained.pending)


def _message(ctx: RunContext) -> Alert:
    from driftloop.actions.notify import build_alert
    from driftloop.drift.concept import ConceptReport
    from driftloop.drift.results import DriftReport

    detected = require_drift(ctx, "alert")
    concept_file = ctx.file("concept.json")
    return build_alert(
        ctx.config.pipeline,
        ctx.run_id,
        ctx.window,
        DriftReport.from_json(ctx.file("report.json")),
        report_location=report_link(ctx.config, detected.report_html),
        model_outcome=model_outcome(ctx),
        top=ctx.config.alerts.top_features,
        concept=ConceptReport.from_json(concept_file) if concept_file.exists() else None,
    )
