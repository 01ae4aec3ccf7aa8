"""Concept drift: predictions no longer track outcomes.

The features can look stable while the relationship between them and the target moves. This
compares a window's prediction-outcome pairs against a baseline (pairs from a period when the
model was known to be good, e.g. its holdout or its first weeks in production):

- regression: Pearson and Spearman correlation of prediction and outcome, and an error metric
  (``rmse``, ``mae`` or ``rmsle``); classification: accuracy, macro F1, and ROC-AUC when scores
  are probabilities;
- each window metric gets a bootstrap confidence interval (pairs resampled, seeded);
- a metric alerts when it degrades by more than its tolerance *and* the degradation is
  significant against the noise of *both* samples, with a guarantee for the one baseline a
  team has: the window's one-sided bound at level ``1 - confidence`` must clear the baseline's
  one-sided bound at level ``1 - baseline_confidence``. With probability ``baseline_confidence``
  over baselines, the baseline's bound is on the good side of the model's true value, and then
  no-change windows alert at most ``1 - confidence`` of the time *for that baseline*. (A
  two-sample test holds its rate only on average over baselines: with 31-pair baselines the
  worst months alerted in 30-67% of no-change windows.) The error metrics (``rmse``, ``mae``,
  ``rmsle``) and ``accuracy`` bound the mean absolute error (the mean correctness, for
  accuracy) with Student's t (Wilson's score interval for 0/1 values); F1 and ROC-AUC use
  bootstrap quantiles of baseline and window resampled independently;
- for regression, the correlations are informational (``decides`` is false): a correlation
  depends on the spread of the features in the window, so a window of mild days shows a lower
  correlation with an unchanged model. The error metric decides;
- optionally, streaming detectors from ``river`` (ADWIN, Page-Hinkley; DDM for classification)
  run over the error stream in time order and report where they detect a change.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from driftloop.errors import ConfigError, DataError

__all__ = ["ConceptReport", "MetricChange", "StreamAlarm", "concept_drift"]

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class MetricChange:
    """One metric: baseline value, window value with its interval, and whether it alerted."""

    name: str
    baseline: float
    current: float
    ci_low: float
    ci_high: float
    tolerance: float
    higher_is_better: bool
    alerted: bool
    decides: bool = True

    @property
    def change(self) -> float:
        return self.current - self.baseline

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"change": self.change}


@dataclass(frozen=True, slots=True)
class StreamAlarm:
    detector: str
    index: int


@dataclass(frozen=True, slots=True)
class ConceptReport:
    task: str
    n_baseline: int
    n_current: int
    metrics: tuple[MetricChange, ...]
    alarms: tuple[StreamAlarm, ...] = ()

    @property
    def concept_drift(self) -> bool:
        return any(m.alerted for m in self.metrics)

    def metric(self, name: str) -> MetricChange:
        return next(m for m in self.metrics if m.name == name)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConceptReport:
        """The report ``to_dict`` (or ``concept.json``) describes; derived keys (``concept_drift``,
        each metric's ``change``) are recomputed, not read.

        Examples
        --------
        >>> m = MetricChange("mae", 10.0, 14.0, 12.0, 16.0, 0.2, False, True)
        >>> report = ConceptReport("regression", 200, 31, (m,))
        >>> ConceptReport.from_dict(report.to_dict()) == report, report.concept_drift
        (True, True)
        """
        fields = {f.name for f in dataclasses.fields(MetricChange)}
        return cls(
            task=data["task"],
            n_baseline=data["n_baseline"],
            n_current=data["n_current"],
            metrics=tuple(
                MetricChange(**{k: v for k, v in m.items() if k in fields}) for m in data["metrics"]
            ),
            alarms=tuple(StreamAlarm(**a) for a in data.get("alarms", ())),
        )

    @classmethod
    def from_json(cls, path: str | Path) -> ConceptReport:
        """Read a report written as ``json.dumps(report.to_dict())``."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "concept_drift": self.concept_drift,
            "n_baseline": self.n_baseline,
            "n_current": self.n_current,
            "metrics": [m.to_dict() for m in self.metrics],
            "alarms": [asdict(a) for a in self.alarms],
        }


def _pearson(y: Array, p: Array) -> float:
    if np.std(y) == 0 or np.std(p) == 0:
        return 0.0
    return float(np.corrcoef(y, p)[0, 1])


def _spearman(y: Array, p: Array) -> float:
    return _pearson(stats.rankdata(y), stats.rankdata(p))


def _rmse(y: Array, p: Array) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def _mae(y: Array, p: Array) -> float:
    return float(np.mean(np.abs(y - p)))


def _rmsle(y: Array, p: Array) -> float:
    return float(
        np.sqrt(np.mean((np.log1p(np.clip(p, 0, None)) - np.log1p(np.clip(y, 0, None))) ** 2))
    )


def _accuracy(y: Array, p: Array) -> float:
    return float(np.mean(y == (p >= 0.5) if _is_score(p) else y == p))


def _f1(y: Array, p: Array) -> float:
    from sklearn.metrics import f1_score

    labels = (p >= 0.5).astype(int) if _is_score(p) else p
    return float(f1_score(y, labels, average="macro", zero_division=0))


def _roc_auc(y: Array, p: Array) -> float:
    if len(np.unique(y)) < 2:
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def _is_score(p: Array) -> bool:
    return bool(np.all((p >= 0) & (p <= 1)) and np.any((p > 0) & (p < 1)))


ERRORS: dict[str, Callable[[Array, Array], float]] = {"rmse": _rmse, "mae": _mae, "rmsle": _rmsle}


def _rows_pearson(y: Array, p: Array) -> Array:
    yc, pc = y - y.mean(axis=1, keepdims=True), p - p.mean(axis=1, keepdims=True)
    denominator = np.sqrt((yc**2).sum(axis=1) * (pc**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (yc * pc).sum(axis=1) / denominator
    return np.where(denominator > 0, r, 0.0)


def _rows_spearman(y: Array, p: Array) -> Array:
    return _rows_pearson(stats.rankdata(y, axis=1), stats.rankdata(p, axis=1))


# Bootstrap samples as rows: one vectorised pass instead of a Python loop per sample.
def _rows_f1(y: Array, p: Array) -> Array:
    """Macro F1 of each row, as scikit-learn's (labels present in either; 0 where undefined),
    for 0/1 outcomes; NaN rows tell the caller to fall back to scikit-learn."""
    labels = (p >= 0.5).astype(np.float64) if _is_score(p) else p
    if not (np.isin(y, (0.0, 1.0)).all() and np.isin(labels, (0.0, 1.0)).all()):
        return np.full(y.shape[0], np.nan)
    total, present = np.zeros(y.shape[0]), np.zeros(y.shape[0])
    for c in (0.0, 1.0):
        tp = np.sum((y == c) & (labels == c), axis=1)
        wrong = np.sum((y == c) != (labels == c), axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            total += np.where(2 * tp + wrong > 0, 2 * tp / (2 * tp + wrong), 0.0)
        present += np.any(y == c, axis=1) | np.any(labels == c, axis=1)
    return total / present


def _rows_roc_auc(y: Array, p: Array) -> Array:
    """ROC-AUC of each row by the rank-sum (Mann-Whitney) identity; NaN with one class."""
    positives = (y == 1).sum(axis=1)
    negatives = y.shape[1] - positives
    ranks = stats.rankdata(p, axis=1)
    rank_sum = np.where(y == 1, ranks, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
    return np.where((positives > 0) & (negatives > 0), auc, np.nan)


_VECTORIZED: dict[str, Callable[[Array, Array], Array]] = {
    "f1": _rows_f1,
    "roc_auc": _rows_roc_auc,
    "pearson": _rows_pearson,
    "spearman": _rows_spearman,
    "rmse": lambda y, p: np.sqrt(np.mean((y - p) ** 2, axis=1)),
    "mae": lambda y, p: np.mean(np.abs(y - p), axis=1),
    "rmsle": lambda y, p: np.sqrt(
        np.mean((np.log1p(np.clip(p, 0, None)) - np.log1p(np.clip(y, 0, None))) ** 2, axis=1)
    ),
}


def concept_drift(
    baseline_pred: Sequence[float] | Array,
    baseline_true: Sequence[float] | Array,
    current_pred: Sequence[float] | Array,
    current_true: Sequence[float] | Array,
    *,
    task: str = "regression",
    error_metric: str = "rmse",
    max_error_increase: float = 0.25,
    max_correlation_drop: float = 0.1,
    max_score_drop: float = 0.05,
    n_boot: int = 500,
    confidence: float = 0.95,
    baseline_confidence: float = 0.9,
    detectors: Sequence[str] = (),
    seed: int = 0,
) -> ConceptReport:
    """Compare the current window's prediction-outcome relationship against the baseline.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> y = x + rng.normal(0, 0.3, 400)
    >>> good = concept_drift(x, y, x[:200], x[:200] + rng.normal(0, 0.3, 200))
    >>> bad = concept_drift(x, y, x[:200], -x[:200] + rng.normal(0, 0.3, 200))
    >>> good.concept_drift, bad.concept_drift
    (False, True)
    """
    _check_settings(
        confidence=confidence,
        baseline_confidence=baseline_confidence,
        n_boot=n_boot,
        max_error_increase=max_error_increase,
        max_correlation_drop=max_correlation_drop,
        max_score_drop=max_score_drop,
    )
    bp, by, cp, cy = (
        np.asarray(a, dtype=np.float64)
        for a in (baseline_pred, baseline_true, current_pred, current_true)
    )
    if bp.shape != by.shape or cp.shape != cy.shape:
        raise DataError("Predictions and outcomes must pair up: their lengths differ.")
    if bp.size < MIN_BASELINE:
        raise DataError(
            f"The concept baseline has {bp.size} prediction-outcome pairs; its bound needs at "
            f"least {MIN_BASELINE} to hold: widen the baseline period (concept.baseline)."
        )
    if cp.size < 3:
        raise DataError(
            f"Too few prediction-outcome pairs to judge concept drift (baseline {bp.size}, "
            f"window {cp.size}; at least 3 each)."
        )
    if task == "regression":
        if error_metric not in ERRORS:
            raise ConfigError(f"Unknown error metric '{error_metric}'. Valid: {', '.join(ERRORS)}.")
        specs = [
            ("pearson", _pearson, True, max_correlation_drop, False),
            ("spearman", _spearman, True, max_correlation_drop, False),
            (error_metric, ERRORS[error_metric], False, max_error_increase, True),
        ]
    elif task == "classification":
        specs = [
            ("accuracy", _accuracy, True, max_score_drop, False),
            ("f1", _f1, True, max_score_drop, False),
        ]
        if _is_score(bp) and _is_score(cp):
            specs.append(("roc_auc", _roc_auc, True, max_score_drop, False))
    else:
        raise ConfigError(f"Unknown task '{task}'. Valid tasks: regression, classification.")
    rng = np.random.default_rng(seed)
    window_rows = rng.integers(0, cp.size, size=(n_boot, cp.size))
    baseline_rows = rng.integers(0, bp.size, size=(n_boot, bp.size))
    alpha, risk = 1 - confidence, 1 - baseline_confidence
    metrics = []
    for name, fn, higher, tolerance, relative in specs:
        base, cur = fn(by, bp), fn(cy, cp)
        boot_cur = _bootstrap(name, fn, cy, cp, window_rows)
        boot_base = _bootstrap(name, fn, by, bp, baseline_rows)
        low, high = _interval(boot_cur, (1 - confidence) / 2, cur)
        losses = _LOSSES.get(name)
        if losses is not None:
            sure = _beyond_baseline(losses(by, bp), losses(cy, cp), higher, alpha, risk)
        else:
            sure = _beyond_baseline_boot(boot_base, boot_cur, higher, alpha, risk)
        if higher:
            alerted = cur < base - tolerance and sure
        else:
            limit = base * (1 + tolerance) if relative else base + tolerance
            alerted = cur > limit and sure
        decides = not (task == "regression" and name in _INFORMATIONAL)
        metrics.append(
            MetricChange(
                name, base, cur, low, high, tolerance, higher, bool(alerted and decides), decides
            )
        )
    alarms = _stream_alarms(
        np.concatenate([by - bp, cy - cp]), task, detectors, by, bp, cy, cp, offset=bp.size
    )
    return ConceptReport(task, int(bp.size), int(cp.size), tuple(metrics), alarms)


def _check_settings(
    *,
    confidence: float,
    baseline_confidence: float,
    n_boot: int,
    max_error_increase: float,
    max_correlation_drop: float,
    max_score_drop: float,
) -> None:
    """One-line errors for settings out of range, as :func:`driftloop.detect` gives."""
    if not 0.5 < confidence < 1:
        raise ConfigError(f"confidence must be in (0.5, 1), e.g. 0.95. Got {confidence!r}.")
    if not 0.5 <= baseline_confidence < 1:
        raise ConfigError(
            f"baseline_confidence must be in [0.5, 1), e.g. 0.9. Got {baseline_confidence!r}."
        )
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 50:
        raise ConfigError(f"n_boot must be a whole number of at least 50. Got {n_boot!r}.")
    for name, value, high in (
        ("max_error_increase", max_error_increase, math.inf),
        ("max_correlation_drop", max_correlation_drop, 2.0),
        ("max_score_drop", max_score_drop, 1.0),
    ):
        if not 0 < value <= high:
            bound = "a positive number" if high == math.inf else f"in (0, {high:g}]"
            raise ConfigError(f"{name} must be {bound}. Got {value!r}.")


_INFORMATIONAL = ("pearson", "spearman")
MIN_BASELINE = 10
_LOSSES: dict[str, Callable[[Array, Array], Array]] = {
    # absolute errors for every error metric: squared ones are heavy-tailed, and a test on them
    # misses a bias a person sees at once (p = 0.095 where absolute errors give 0.025)
    "rmse": lambda y, p: np.abs(y - p),
    "mae": lambda y, p: np.abs(y - p),
    "rmsle": lambda y, p: np.abs(np.log1p(np.clip(p, 0, None)) - np.log1p(np.clip(y, 0, None))),
    "accuracy": lambda y, p: (y == ((p >= 0.5) if _is_score(p) else p)).astype(np.float64),
}


def _beyond_baseline(base: Array, cur: Array, higher: bool, alpha: float, risk: float) -> bool:
    """Whether the window's mean per-pair value is worse than the baseline's beyond both
    samples' noise: the window's one-sided ``alpha`` bound clears the baseline's ``risk`` bound."""
    if higher:
        return _mean_bound(cur, alpha, upper=True) < _mean_bound(base, risk, upper=False)
    return _mean_bound(cur, alpha, upper=False) > _mean_bound(base, risk, upper=True)


def _mean_bound(values: Array, risk: float, *, upper: bool) -> float:
    """A one-sided bound on the mean of ``values`` that fails with probability ``risk``:
    Wilson's score bound for 0/1 values (exact enough where all pairs agree), Student's t else."""
    n = values.size
    mean = float(values.mean())
    sign = 1.0 if upper else -1.0
    if np.isin(values, (0.0, 1.0)).all():
        z = float(stats.norm.isf(risk))
        centre = (mean + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(mean * (1 - mean) / n + z * z / (4 * n * n))
        return centre + sign * half
    t = float(stats.t.isf(risk, n - 1))
    return mean + sign * t * float(values.std(ddof=1)) / math.sqrt(n)


def _bootstrap(
    name: str, fn: Callable[[Array, Array], float], y: Array, p: Array, rows: npt.NDArray[np.int64]
) -> Array:
    vectorized = _VECTORIZED.get(name)
    if vectorized:
        values = vectorized(y[rows], p[rows])
        if name != "f1" or not np.isnan(values).any():
            return values
    return np.array([fn(y[i], p[i]) for i in rows])


def _interval(boot: Array, alpha: float, fallback: float) -> tuple[float, float]:
    boot = boot[np.isfinite(boot)]
    if not boot.size:
        return fallback, fallback
    return float(np.quantile(boot, alpha)), float(np.quantile(boot, 1 - alpha))


def _beyond_baseline_boot(base: Array, cur: Array, higher: bool, alpha: float, risk: float) -> bool:
    """:func:`_beyond_baseline` for metrics without a per-pair value (F1, ROC-AUC): the
    bootstrap quantiles of the window's and the baseline's metric."""
    base, cur = base[np.isfinite(base)], cur[np.isfinite(cur)]
    if not base.size or not cur.size:
        return False
    if higher:
        return bool(np.quantile(cur, 1 - alpha) < np.quantile(base, risk))
    return bool(np.quantile(cur, alpha) > np.quantile(base, 1 - risk))


def _stream_alarms(
    errors: Array,
    task: str,
    detectors: Sequence[str],
    by: Array,
    bp: Array,
    cy: Array,
    cp: Array,
    offset: int,
) -> tuple[StreamAlarm, ...]:
    """Run river's detectors over baseline-then-window errors; report alarms inside the window."""
    if not detectors:
        return ()
    from river import drift

    makers = {"adwin": drift.ADWIN, "page_hinkley": drift.PageHinkley, "ddm": drift.binary.DDM}
    unknown = [d for d in detectors if d not in makers]
    if unknown:
        raise ConfigError(f"Unknown detector '{unknown[0]}'. Valid detectors: {', '.join(makers)}.")
    if task == "classification":
        stream = np.concatenate([(by != (bp >= 0.5)), (cy != (cp >= 0.5))]).astype(float)
    else:
        scale = float(np.std(errors[:offset])) or 1.0
        stream = np.abs(errors) / scale
    alarms = []
    for name in detectors:
        if name == "ddm" and task != "classification":
            raise ConfigError(
                "Detector 'ddm' watches a 0/1 error stream: use it with task: classification."
            )
        detector = makers[name]()
        for i, value in enumerate(stream):
            detector.update(bool(value) if name == "ddm" else float(value))
            if detector.drift_detected and i >= offset:
                alarms.append(StreamAlarm(name, i - offset))
    return tuple(alarms)
