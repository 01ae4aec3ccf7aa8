"""The production classifier's performance on the window, for the detect step's report.

Estimated from the model's scores alone (``drift/performance.py``: confidence-based, premise no
concept drift), against the holdout the production version was registered with
(``holdout_scores.json``: its labels and scores, what calibration is checked on); realized too
when the window's labels have arrived. Both are tests of the window's family
(``drift/family.py``, part ``performance``): each runs at half the part's level, and a drop
beyond its interval is a finding that can make the loop act (``on_drift.when.performance_drop``).

Anything that keeps the estimate from being made — no production model yet, a regressor, a
version registered before holdout scores were kept, scores the estimator refuses as
uncalibrated — leaves ``performance.skipped`` saying why, never a number it cannot stand behind.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftloop.errors import DriftloopError
from driftloop.pipeline.steps.context import RunContext

if TYPE_CHECKING:
    import polars as pl

    from driftloop.drift.results import DriftReport

__all__ = ["with_performance"]


class _NoEstimate(Exception):
    """Why this window has no estimate (the report's ``performance.skipped``)."""


def with_performance(ctx: RunContext, report: DriftReport, current: pl.DataFrame) -> DriftReport:
    """``report`` with the window's ``performance`` section and its family findings; unchanged
    without an enabled ``performance`` section."""
    settings = ctx.config.performance
    if settings is None or not settings.enabled:
        return report
    try:
        section = _measure(ctx, current)
    except _NoEstimate as why:
        section = {"metric": settings.metric, "skipped": str(why)}
    return _judged(ctx, replace(report, performance=section))


def _measure(ctx: RunContext, current: pl.DataFrame) -> dict[str, Any]:
    from driftloop.drift.performance import estimate_performance, realized_performance

    cfg = ctx.config
    assert cfg.performance is not None and cfg.training is not None
    version, holdout, model = _production(ctx)
    reference, names = _reference_frame(holdout)
    scored = _scored_window(model, holdout, current, names)
    options: dict[str, Any] = {
        "target": "label",
        "score": names[0] if len(names) == 1 else names,
        "metric": cfg.performance.metric,
        "alpha": _level(ctx),
        "confidence": cfg.performance.confidence,
    }
    try:
        estimate = estimate_performance(reference, scored.drop("label"), **options)
    except DriftloopError as err:  # e.g. scores no recalibration can rescue: say so, no number
        raise _NoEstimate(f"the estimate is refused: {err}") from None
    section = {**estimate.to_dict(), "model_version": version}
    labelled = int(scored["label"].is_not_null().sum())
    if labelled >= cfg.performance.min_labels:
        try:
            realized = realized_performance(reference, scored, **options)
            section["realized"] = realized.to_dict()
        except DriftloopError as err:
            section["realized_skipped"] = str(err)
    return section


def _production(ctx: RunContext) -> tuple[int, dict[str, Any], Any]:
    """The production version, the holdout it was registered with, and the model."""
    from driftloop.model.registry import Registry

    cfg = ctx.config
    assert cfg.model is not None
    uri = cfg.stores.mlflow.get_secret_value()
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        raise _NoEstimate("no production model yet")
    registry = Registry.open(uri, cfg.stores.mlflow_artifacts, cfg.stores.s3_endpoint_url)
    found = registry.production_artifact(cfg.model.name, "holdout_scores.json")
    if found is None:
        raise _NoEstimate(
            f"the production version of '{cfg.model.name}' has no holdout scores (a model "
            "without predict_proba, or one registered before they were kept)"
        )
    version, holdout = found
    model = registry.load(cfg.model.name, trusted=tuple(cfg.model.trusted_types))
    return version, holdout, model


def _reference_frame(holdout: dict[str, Any]) -> tuple[pl.DataFrame, list[str]]:
    """The holdout's labels and scores as the estimator reads them: ``label`` (class index) and
    the positive class's probability (binary) or one column per class."""
    import numpy as np
    import polars as pl

    scores = np.asarray(holdout["scores"], dtype=float)
    names = _score_names(scores.shape[1])
    columns = {"label": np.asarray(holdout["labels"], dtype=np.int64)}
    columns |= _score_columns(scores, names)
    return pl.DataFrame(columns), names


def _score_names(n_classes: int) -> list[str]:
    return ["score"] if n_classes == 2 else [f"score_{k}" for k in range(n_classes)]


def _score_columns(scores: Any, names: list[str]) -> dict[str, Any]:
    if len(names) == 1:
        return {names[0]: scores[:, 1]}
    return {name: scores[:, k] for k, name in enumerate(names)}


def _scored_window(
    model: Any, holdout: dict[str, Any], current: pl.DataFrame, names: list[str]
) -> pl.DataFrame:
    """The window scored by the production model, with its labels where they have arrived
    (class index; null where not yet known)."""
    import numpy as np
    import polars as pl

    features = list(holdout["features"])
    missing = [f for f in features if f not in current.columns]
    if missing:
        raise _NoEstimate(f"the window lacks the model's feature '{missing[0]}'")
    usable = current.drop_nulls(features)
    if usable.height < 2:
        raise _NoEstimate(f"the window has {usable.height} rows with every model feature")
    try:
        scores = np.asarray(model.predict_proba(usable.select(features).to_pandas()), dtype=float)
    except Exception as err:  # the team's model on this window's rows
        raise _NoEstimate(f"the model could not score the window: {type(err).__name__}") from None
    frame = pl.DataFrame(_score_columns(scores, names))
    return frame.with_columns(pl.Series("label", _labels(holdout, usable), dtype=pl.Int64))


def _labels(holdout: dict[str, Any], window: pl.DataFrame) -> list[int | None]:
    """The window's labels as class indexes (None where unknown or not a class of the model)."""
    target = holdout.get("target")
    if target is None or target not in window.columns:
        return [None] * window.height
    index = {c: i for i, c in enumerate(holdout["classes"])}
    return [index.get(v) for v in window[target].to_list()]


def _level(ctx: RunContext) -> float:
    """Each performance test's level: half the family's performance part (estimated and
    realized share it), or the family's rate when the estimate does not share the family."""
    from driftloop.drift.family import performance_level
    from driftloop.pipeline.steps.loop_settings import loop_settings

    settings = loop_settings(ctx.config)
    if not settings.family.performance:
        return float(settings.family.rate)
    return performance_level(settings)


def _judged(ctx: RunContext, report: DriftReport) -> DriftReport:
    """The report whose family holds the performance findings: a drop, estimated or realized,
    whose p-value is under its level."""
    from driftloop.drift.results import FamilyFinding

    family, section = report.family, report.performance or {}
    if family is None or "skipped" in section:
        return report
    part = dict((p, level) for p, level, _ in family.parts).get("performance")
    if part is None:
        return report
    found, tests = [], 0
    for name, result in (("estimated", section), ("realized", section.get("realized"))):
        if result is None:
            continue
        tests += 1
        p_family = min(float(result["p_value"]) * 2 * family.rate / part, 1.0)
        if result["alert"]:
            found.append(FamilyFinding("performance", f"{name} {section['metric']}", "", p_family))
    parts = tuple((p, lv, tests if p == "performance" else n) for p, lv, n in family.parts)
    return replace(
        report, family=replace(family, parts=parts, findings=family.findings + tuple(found))
    )
