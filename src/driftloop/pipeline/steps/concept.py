"""The concept step: the window's prediction-outcome pairs against the baseline period's."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from driftloop.pipeline.steps.context import RunContext, Skip
from driftloop.pipeline.steps.detect import DetectResult
from driftloop.pipeline.steps.result import StepResult

__all__ = ["ConceptResult", "concept"]


@dataclass(frozen=True, slots=True)
class ConceptResult(StepResult):
    """The concept verdict; ``fires`` covers data drift (detect's) and concept drift."""

    concept_drift: bool
    alerted: tuple[str, ...]
    metrics: dict[str, float] = field(hash=False)
    pairs: int
    fires: bool
    report_html: str

    def summary(self) -> str:
        if not self.concept_drift:
            return f"no concept drift ({self.pairs} pairs)"
        return f"concept drift in {', '.join(self.alerted)} ({self.pairs} pairs)"


def concept(ctx: RunContext) -> ConceptResult:
    """Judge the window's prediction-outcome pairs against the baseline period's."""
    from driftloop.data.predictions import PredictionStore, concept_series, record_window
    from driftloop.report.concept import render_concept_html

    cfg = ctx.config
    c = cfg.concept
    if c is None or not c.enabled:
        raise Skip("concept monitoring is not configured")
    store = PredictionStore(cfg.stores.warehouse.get_secret_value())
    current = store.pairs(cfg.pipeline, ctx.start, ctx.end)
    if current.height < c.min_pairs:
        raise Skip(
            f"only {current.height} prediction-outcome pairs in the window "
            f"(min_pairs {c.min_pairs})"
        )
    baseline = store.pairs(cfg.pipeline, c.baseline.start, c.baseline.end)
    if baseline.height < c.min_pairs:
        raise Skip(
            f"only {baseline.height} prediction-outcome pairs in the baseline "
            f"{c.baseline.start}..{c.baseline.end} (min_pairs {c.min_pairs})"
        )
    report = _judge(ctx, baseline, current)
    if ctx.start is not None and ctx.end is not None:
        record_window(store, cfg.pipeline, ctx.start, ctx.end, ctx.run_id, report)
    html = ctx.report_folder() / f"{ctx.report_stem}_concept.html"
    html.write_text(
        render_concept_html(cfg.pipeline, ctx.window, report, concept_series(store, cfg.pipeline))
    )
    ctx.file("concept.json").write_text(json.dumps(report))
    detected = ctx.result("detect", DetectResult)
    fires = (detected is not None and detected.fires) or (
        report["concept_drift"] and cfg.on_drift.when.concept_drift
    )
    return ConceptResult(
        concept_drift=report["concept_drift"],
        alerted=tuple(m["name"] for m in report["metrics"] if m["alerted"]),
        metrics={m["name"]: round(m["current"], 6) for m in report["metrics"]},
        pairs=current.height,
        fires=bool(fires),
        report_html=str(html),
    )


def _judge(ctx: RunContext, baseline: Any, current: Any) -> dict[str, Any]:
    from driftloop.drift.concept import concept_drift

    c = ctx.config.concept
    assert c is not None  # checked by the step
    return concept_drift(
        baseline["prediction"].to_numpy(),
        baseline["actual"].to_numpy(),
        current["prediction"].to_numpy(),
        current["actual"].to_numpy(),
        task=c.task,
        error_metric=c.error_metric,
        max_error_increase=c.max_error_increase,
        max_correlation_drop=c.max_correlation_drop,
        max_score_drop=c.max_score_drop,
        confidence=c.confidence,
        detectors=c.detectors,
    ).to_dict()
