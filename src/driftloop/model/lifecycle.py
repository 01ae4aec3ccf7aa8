"""Retrain, register, decide, publish: a drift-triggered retrain reaches production only if better.

The challenger and the current ``production`` version are scored on the same time-ordered
holdout. The alias moves only when the challenger wins by ``margin`` (relative); otherwise the
version stays registered, tagged ``rejected`` with the reason. Promoted versions are published.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from driftloop.actions.publish import PublishedFile, Publisher
from driftloop.config import TrainingConfig
from driftloop.drift.results import DriftReport
from driftloop.model.card import ModelCard, slice_scores
from driftloop.model.metrics import get_metric
from driftloop.model.registry import Registry
from driftloop.model.train import TrainedModel, fit

__all__ = ["RetrainResult", "publish_version", "retrain"]


@dataclass(frozen=True, slots=True)
class RetrainResult:
    """What a retrain produced and what became of it."""

    name: str
    version: int
    promoted: bool
    reason: str
    metric: str
    score: float
    champion_version: int | None
    champion_score: float | None
    run_id: str
    published: tuple[PublishedFile, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "promoted": self.promoted,
            "reason": self.reason,
            "metric": self.metric,
            "score": self.score,
            "champion_version": self.champion_version,
            "champion_score": self.champion_score,
            "run_id": self.run_id,
            "published": [p.to_dict() for p in self.published],
            "seconds": round(self.seconds, 3),
        }


def _decide(
    spec: TrainingConfig,
    trained: TrainedModel,
    champion_version: int | None,
    champion_score: float | None,
    margin: float,
    first: str = "",
) -> tuple[bool, str]:
    """Promote or not, and why: never below a trivial model; else when there is no production
    model (``first`` says why, e.g. it could not be scored), or when better than production by
    ``margin`` on the same holdout."""
    metric = get_metric(spec.metric)
    score, floor = trained.score, trained.baseline_score
    if floor is not None and metric.better(floor, score):  # the trivial model wins
        return False, (
            f"{spec.metric} {score:.4f} is no better than a trivial model's {floor:.4f} "
            "(the training mean or majority class): check that predict() returns the target's "
            "units"
        )
    if champion_score is None:
        return True, first or "first version: no production model yet"
    if metric.better(score, champion_score, margin):
        return True, (
            f"{spec.metric} {score:.4f} beats production v{champion_version}'s "
            f"{champion_score:.4f}" + (f" by at least {margin:.0%}" if margin else "")
        )
    return False, (
        f"{spec.metric} {score:.4f} does not beat production v{champion_version}'s "
        f"{champion_score:.4f}" + (f" by {margin:.0%}" if margin else "")
    )


def _without_histograms(drift: DriftReport) -> dict[str, Any]:
    """The drift report logged with a version: its columns without their histograms."""
    columns = [{k: v for k, v in c.to_dict().items() if k != "histogram"} for c in drift.columns]
    return {k: v for k, v in drift.to_dict().items() if k != "columns"} | {"columns": columns}


def retrain(
    frame: pl.DataFrame,
    spec: TrainingConfig,
    registry: Registry,
    *,
    name: str,
    experiment: str | None = None,
    trigger: str = "manual",
    drift: DriftReport | None = None,
    margin: float = 0.0,
    publisher: Publisher | None = None,
    intended_use: str = "",
    report_path: Path | None = None,
    run_id: str | None = None,
    trusted_types: tuple[str, ...] = (),
) -> RetrainResult:
    """Train on ``frame``, register the version, promote it only if it beats production.

    Exactly once per pipeline run: a version this run registered but never decided (its process
    died in between) is finished with the decision it was registered with, not trained again.
    """
    started = time.perf_counter()
    pending = registry.undecided_version_of_run(name, run_id) if run_id else None
    if pending is not None:
        return _finish_pending(registry, publisher, name, pending, started)
    trained = fit(frame, spec)
    estimator = getattr(trained.estimator, "best_estimator_", trained.estimator)
    champion_version, champion_score, champion_note = _score_champion(
        registry, name, trained, trusted_types
    )
    promote, reason = _decide(
        spec, trained, champion_version, champion_score, margin, first=champion_note
    )
    card = _card(name, spec, trained, frame, champion_score, trigger, drift, intended_use, reason)
    metrics = {spec.metric: trained.score, "train_seconds": trained.seconds, **trained.user_metrics}
    if champion_score is not None:
        metrics[f"{spec.metric}_production"] = champion_score
    dicts: dict[str, Any] = {
        "coefficients.json": _importances(estimator),
        "importance.json": _reliance(estimator, trained),
    }
    scored = holdout_scores(estimator, trained)
    if scored is not None:
        dicts["holdout_scores.json"] = scored
    if drift is not None:
        dicts["drift_report.json"] = _without_histograms(drift)
    version, run_id = registry.log_version(
        name,
        experiment=experiment or name,
        estimator=estimator,
        input_example=trained.X_holdout.head(5),
        params=_params(spec, trained, frame),
        metrics=metrics,
        tags={
            "driftloop.trigger": trigger[:500],
            "driftloop.metric": spec.metric,
            # the decision travels with the version: a resumed run finishes it, never retrains
            "driftloop.decision": "promote" if promote else "reject",
            "driftloop.reason": reason[:500],
        }
        | ({"driftloop.run_id": run_id} if run_id else {}),
        dicts=dicts,
        texts={},
        files=[report_path] if report_path is not None and report_path.exists() else [],
        description=card.to_markdown(),
    )
    final_card = _with_version(card, version).to_markdown()
    registry.finish_version(name, version, run_id, final_card)
    published: tuple[PublishedFile, ...] = ()
    if promote:
        registry.promote(name, version, reason)
        if publisher is not None:
            published = _publish(registry, publisher, name, version, final_card)
    else:
        registry.set_status(name, version, "rejected", reason)
    return RetrainResult(
        name=name,
        version=version,
        promoted=promote,
        reason=reason,
        metric=spec.metric,
        score=trained.score,
        champion_version=champion_version,
        champion_score=champion_score,
        run_id=run_id,
        published=published,
        seconds=time.perf_counter() - started,
    )


def _finish_pending(
    registry: Registry,
    publisher: Publisher | None,
    name: str,
    pending: dict[str, Any],
    started: float,
) -> RetrainResult:
    version, reason = pending["version"], pending["reason"]
    registry.finish_version(name, version, pending["run_id"], pending["description"])
    published: tuple[PublishedFile, ...] = ()
    if pending["promote"]:
        registry.promote(name, version, reason)
        if publisher is not None:
            published = _publish(registry, publisher, name, version, pending["description"])
    else:
        registry.set_status(name, version, "rejected", reason)
    return RetrainResult(
        name=name,
        version=version,
        promoted=pending["promote"],
        reason=reason,
        metric=pending["metric"],
        score=pending["score"],
        champion_version=None,
        champion_score=pending["champion_score"],
        run_id=pending["run_id"],
        published=published,
        seconds=time.perf_counter() - started,
    )


def _score_champion(
    registry: Registry, name: str, trained: TrainedModel, trusted: tuple[str, ...] = ()
) -> tuple[int | None, float | None, str]:
    version = registry.production_version(name)
    if version is None:
        return None, None, ""
    champion = registry.load(name, trusted=trusted)
    try:
        predictions = champion.predict(trained.X_holdout)
    except Exception as err:  # the champion cannot read today's features: it cannot serve them
        note = f"production v{version} cannot score the holdout ({type(err).__name__}); replaced"
        return version, None, note
    score = get_metric(trained.metric).fn(trained.y_holdout.to_numpy(), np.asarray(predictions))
    return version, score, ""


def _target_stats(frame: pl.DataFrame, target: str) -> dict[str, float]:
    values = frame[target].cast(pl.Float64).drop_nulls().to_numpy()
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values, ddof=1)) if values.size > 1 else 0.0,
        "min": float(np.min(values)),
        "max": float(np.max(values)),
    }


def _window(frame: pl.DataFrame, spec: TrainingConfig) -> tuple[str, str] | None:
    if not spec.time_column or spec.time_column not in frame.columns:
        return None
    column = frame[spec.time_column]
    return str(column.min()), str(column.max())


def _params(spec: TrainingConfig, trained: TrainedModel, frame: pl.DataFrame) -> dict[str, Any]:
    stats = _target_stats(frame, spec.target)
    params: dict[str, Any] = {
        "entry_point": spec.entry_point,
        "target": spec.target,
        "metric": spec.metric,
        "holdout_share": spec.holdout,
        "features": ",".join(trained.features),
        "rows_train": len(trained.X_train),
        "rows_holdout": len(trained.X_holdout),
    }
    params |= {f"target_{k}": round(v, 6) for k, v in stats.items()}
    if window := _window(frame, spec):
        params["window_start"], params["window_end"] = window
    params |= {f"param_{k}": v for k, v in spec.params.items()}
    best = getattr(trained.estimator, "best_params_", None) or {}
    params |= {f"best_{k.rsplit('__', 1)[-1]}": v for k, v in best.items()}
    return params


def _reliance(estimator: Any, trained: TrainedModel) -> dict[str, float]:
    """The model's reliance on each feature (:mod:`driftloop.model.importance`); empty when the
    estimator cannot be scored on its own holdout's shuffles."""
    from driftloop.model.importance import reliance

    try:
        return reliance(estimator, trained.X_holdout, trained.y_holdout, trained.metric)
    except Exception:  # a team's estimator: importance is a report aid, never a failed retrain
        return {}


_MAX_SCORED = 20_000  # holdout rows kept with a classifier's version (plenty to check calibration)


def holdout_scores(estimator: Any, trained: TrainedModel) -> dict[str, Any] | None:
    """A classifier's holdout as performance estimation reads it (``holdout_scores.json``): its
    features, classes, each row's class index and ``predict_proba`` scores. None for a model
    without ``predict_proba`` (a regressor) or one whose scores cannot be read."""
    import numpy as np

    if not hasattr(estimator, "predict_proba"):
        return None
    X, y = trained.X_holdout.head(_MAX_SCORED), trained.y_holdout.head(_MAX_SCORED)
    try:
        scores = np.asarray(estimator.predict_proba(X), dtype=float)
        classes = [c.item() if hasattr(c, "item") else c for c in estimator.classes_]
        index = {c: i for i, c in enumerate(classes)}
        labels = [index[v.item() if hasattr(v, "item") else v] for v in y]
    except Exception:  # a team's estimator: the estimate is an aid, never a failed retrain
        return None
    return {
        "features": list(trained.features),
        "target": str(y.name),
        "classes": classes,
        "labels": labels,
        "scores": np.round(scores, 6).tolist(),
    }


def _importances(estimator: Any) -> dict[str, float]:
    """Coefficients or feature importances by feature name, where the estimator exposes them."""
    model = getattr(estimator, "regressor_", estimator)
    steps = getattr(model, "steps", None)
    final = steps[-1][1] if steps else model
    values = getattr(final, "coef_", None)
    if values is None:
        values = getattr(final, "feature_importances_", None)
    if values is None:
        return {}
    names: list[str] = []
    if steps and hasattr(steps[0][1], "get_feature_names_out"):
        names = [str(n) for n in steps[0][1].get_feature_names_out()]
    flat = np.ravel(values)
    names = names if len(names) == flat.size else [f"f{i}" for i in range(flat.size)]
    return {n: float(v) for n, v in zip(names, flat, strict=True)}


def _card(
    name: str,
    spec: TrainingConfig,
    trained: TrainedModel,
    frame: pl.DataFrame,
    champion_score: float | None,
    trigger: str,
    drift: DriftReport | None,
    intended_use: str,
    decision: str,
) -> ModelCard:
    span = _window(frame, spec)
    window = f"{span[0]} to {span[1]}" if span else "all rows"
    predictions = trained.estimator.predict(trained.X_holdout)
    slices = slice_scores(
        trained.X_holdout, trained.y_holdout, predictions, spec.metric, tuple(spec.slice_columns)
    )
    drift_text = drift.to_markdown() if drift is not None else ""
    stats = _target_stats(frame, spec.target)
    data = {
        "rows": frame.height,
        "training rows": len(trained.X_train),
        "holdout rows": f"{len(trained.X_holdout)} (the latest {spec.holdout:.0%})",
        "features": ", ".join(trained.features),
        "target": f"{spec.target} (mean {stats['mean']:.4g}, std {stats['std']:.4g})",
    }
    return ModelCard(
        name=name,
        version=None,
        intended_use=intended_use
        or f"Predict '{spec.target}' from {len(trained.features)} features.",
        training_window=window,
        data=data,
        metric=spec.metric,
        score=trained.score,
        champion_score=champion_score,
        slices=slices,
        params=dict(getattr(trained.estimator, "best_params_", None) or spec.params),
        trigger=trigger,
        drift_summary=drift_text,
        limitations=(
            f"Scored on one time-ordered holdout of {len(trained.X_holdout)} rows; "
            "slices with few rows are noisy.",
            f"Trained on data up to {span[1] if span else 'the latest rows'}; "
            "re-check after drift alerts.",
        ),
        decision=decision,
    )


def _with_version(card: ModelCard, version: int) -> ModelCard:
    from dataclasses import replace

    return replace(card, version=version)


def publish_version(
    registry: Registry, publisher: Publisher, name: str, version: int
) -> tuple[PublishedFile, ...]:
    """Publish a registered version's model folder and its model card."""
    return _publish(
        registry, publisher, name, version, registry.show(f"{name}/{version}").description
    )


def _publish(
    registry: Registry, publisher: Publisher, name: str, version: int, card: str
) -> tuple[PublishedFile, ...]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = registry.download(name, version, Path(tmp) / "model")
        files = [(p, str(p.relative_to(folder))) for p in sorted(folder.rglob("*")) if p.is_file()]
        card_path = Path(tmp) / "model_card.md"
        card_path.write_text(card, encoding="utf-8")
        files.append((card_path, "model_card.md"))
        published = publisher.publish(name, version, files)
        # last, once every file is in place: consumers reading a fixed key follow production
        return (*published, publisher.point(name, version, published))
