"""The concept step: the window's prediction-outcome pairs against the baseline period's."""

from __future__ import annotations

import datetime as dt
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
    pooled_from: str | None = None
    baseline_model_version: str | None = None

    def summary(self) -> str:
        pairs = f"{self.pairs} pairs" + (f" since {self.pooled_from}" if self.pooled_from else "")
        if not self.concept_drift:
            return f"no concept drift ({pairs})"
        return f"concept drift in {', '.join(self.alerted)} ({pairs})"


def concept(ctx: RunContext) -> ConceptResult:
    """Judge the window's prediction-outcome pairs against the baseline period's."""
    from driftloop.data.predictions import PredictionStore, concept_series, record_window
    from driftloop.report.concept import render_concept_html

    cfg = ctx.config
    c = cfg.concept
    if c is None or not c.enabled:
        raise Skip("concept monitoring is not configured")
    store = PredictionStore(cfg.stores.warehouse.get_secret_value())
    current, pooled_from = _window_pairs(store, ctx, c)
    baseline, version = _baseline_pairs(store, cfg.pipeline, current, c)
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
        pooled_from=str(pooled_from) if pooled_from else None,
        baseline_model_version=version,
    )


def _window_pairs(store: Any, ctx: RunContext, c: Any) -> tuple[Any, dt.date | None]:
    """The window's pairs; too few, and those of the last ``pool_days`` up to its end."""
    current = store.pairs(ctx.config.pipeline, ctx.start, ctx.end)
    pooled_from = None
    if current.height < c.min_pairs and c.pool_days and ctx.end is not None:
        start = ctx.end - dt.timedelta(days=c.pool_days - 1)
        if ctx.start is None or start < ctx.start:
            current, pooled_from = store.pairs(ctx.config.pipeline, start, ctx.end), start
    if current.height < c.min_pairs:
        span = f" (pooled over {c.pool_days} days)" if pooled_from else ""
        raise Skip(
            f"only {current.height} prediction-outcome pairs in the window{span} "
            f"(min_pairs {c.min_pairs})"
        )
    return current, pooled_from


def _baseline_pairs(store: Any, pipeline: str, current: Any, c: Any) -> tuple[Any, str | None]:
    """The baseline period's pairs, from the model version that served the window when it has
    enough of them there (errors of another model are another baseline)."""
    versions = current["model_version"].drop_nulls().unique().to_list()
    if len(versions) == 1:
        same = store.pairs(pipeline, c.baseline.start, c.baseline.end, model_version=versions[0])
        if same.height >= c.min_pairs:
            return same, str(versions[0])
    baseline = store.pairs(pipeline, c.baseline.start, c.baseline.end)
    if baseline.height < c.min_pairs:
        raise Skip(
            f"only {baseline.height} prediction-outcome pairs in the baseline "
            f"{c.baseline.start}..{c.baseline.end} (min_pairs {c.min_pairs})"
        )
    return baseline, None


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
        confidence=_confidence(ctx),
        baseline_confidence=c.baseline_confidence,
        detectors=c.detectors,
    ).to_dict()


def _confidence(ctx: RunContext) -> float:
    """The concept test's confidence: its share of the window's family, split over the metrics
    that decide (one error metric for regression; accuracy, F1 and ROC-AUC for classification),
    or the configured confidence when that is stricter."""
    from driftloop.drift.family import concept_level
    from driftloop.pipeline.steps.loop_settings import loop_settings

    c = ctx.config.concept
    assert c is not None
    settings = loop_settings(ctx.config)
    if not settings.family.concept:
        return float(c.confidence)
    deciding = 1 if c.task == "regression" else 3
    return max(float(c.confidence), 1.0 - concept_level(settings) / deciding)
