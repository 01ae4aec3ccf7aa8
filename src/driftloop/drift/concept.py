"""Concept drift: predictions no longer track outcomes.

The features can look stable while the relationship between them and the target moves. This
compares a window's prediction-outcome pairs against a baseline (pairs from a period when the
model was known to be good, e.g. its holdout or its first weeks in production):

- regression: Pearson and Spearman correlation of prediction and outcome, and an error metric
  (``rmse``, ``mae`` or ``rmsle``); classification: accuracy, macro F1, and ROC-AUC when scores
  are probabilities;
- each window metric gets a bootstrap confidence interval (pairs resampled, seeded);
- a metric alerts when it degrades by more than its tolerance *and* the degradation is
  significant, at one-sided level ``1 - confidence``, against the noise of *both* samples. A
  baseline is a sample too: treating it as exact made 12-15% of no-change windows alert with a
  one-month baseline. The error metrics (``rmse``, ``mae``, ``rmsle``) and ``accuracy`` use a
  one-sided permutation test of the mean absolute error (of correctness, for accuracy) of the
  two samples, exact at any size; the others (F1, ROC-AUC) resample baseline and
  window independently and need the bootstrap bound of the change on the degraded side;
- for regression, the correlations are informational (``decides`` is false): a correlation
  depends on the spread of the features in the window, so a window of mild days shows a lower
  correlation with an unchanged model. The error metric decides;
- optionally, streaming detectors from ``river`` (ADWIN, Page-Hinkley; DDM for classification)
  run over the error stream in time order and report where they detect a change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
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
_VECTORIZED: dict[str, Callable[[Array, Array], Array]] = {
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
    if bp.size < 3 or cp.size < 3:
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
    metrics = []
    for name, fn, higher, tolerance, relative in specs:
        base, cur = fn(by, bp), fn(cy, cp)
        boot_cur = _bootstrap(name, fn, cy, cp, window_rows)
        boot_base = _bootstrap(name, fn, by, bp, baseline_rows)
        low, high = _interval(boot_cur, (1 - confidence) / 2, cur)
        losses = _LOSSES.get(name)
        if losses is not None:
            sure = _permutation_p(losses(by, bp), losses(cy, cp), higher, rng) < 1 - confidence
        else:
            sure = _significant(boot_base, boot_cur, higher, relative, 1 - confidence)
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
    n_boot: int,
    max_error_increase: float,
    max_correlation_drop: float,
    max_score_drop: float,
) -> None:
    """One-line errors for settings out of range, as :func:`driftloop.detect` gives."""
    if not 0.5 < confidence < 1:
        raise ConfigError(f"confidence must be in (0.5, 1), e.g. 0.95. Got {confidence!r}.")
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
_PERMUTATIONS = 999
_LOSSES: dict[str, Callable[[Array, Array], Array]] = {
    # absolute errors for every error metric: squared ones are heavy-tailed, and a test on them
    # misses a bias a person sees at once (p = 0.095 where absolute errors give 0.025)
    "rmse": lambda y, p: np.abs(y - p),
    "mae": lambda y, p: np.abs(y - p),
    "rmsle": lambda y, p: np.abs(np.log1p(np.clip(p, 0, None)) - np.log1p(np.clip(y, 0, None))),
    "accuracy": lambda y, p: (y == ((p >= 0.5) if _is_score(p) else p)).astype(np.float64),
}


def _permutation_p(base: Array, cur: Array, higher: bool, rng: np.random.Generator) -> float:
    """One-sided permutation p-value that the window's mean per-pair value is worse (a larger
    loss, or a smaller ``higher``-is-better score) than the baseline's."""
    pooled = np.concatenate([base, cur])
    sign = -1.0 if higher else 1.0
    observed = sign * (cur.mean() - base.mean())
    shuffled = rng.permuted(np.broadcast_to(pooled, (_PERMUTATIONS, pooled.size)), axis=1)
    simulated = sign * (
        shuffled[:, base.size :].mean(axis=1) - shuffled[:, : base.size].mean(axis=1)
    )
    return float((1 + np.count_nonzero(simulated >= observed - 1e-12)) / (_PERMUTATIONS + 1))


def _bootstrap(
    name: str, fn: Callable[[Array, Array], float], y: Array, p: Array, rows: npt.NDArray[np.int64]
) -> Array:
    vectorized = _VECTORIZED.get(name)
    if vectorized:
        return vectorized(y[rows], p[rows])
    return np.array([fn(y[i], p[i]) for i in rows])


def _interval(boot: Array, alpha: float, fallback: float) -> tuple[float, float]:
    boot = boot[np.isfinite(boot)]
    if not boot.size:
        return fallback, fallback
    return float(np.quantile(boot, alpha)), float(np.quantile(boot, 1 - alpha))


def _significant(base: Array, cur: Array, higher: bool, relative: bool, alpha: float) -> bool:
    """Whether the window's metric is worse than the baseline's beyond both samples' noise:
    the one-sided ``alpha`` bound of the bootstrap change lies on the degraded side."""
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.log(cur / base) if relative else cur - base
    change = change[np.isfinite(change)]
    if not change.size:
        return False
    if higher:
        return bool(np.quantile(change, 1 - alpha) < 0)
    return bool(np.quantile(change, alpha) > 0)


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
