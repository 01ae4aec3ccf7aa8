"""A classifier's performance on a window before its labels arrive (confidence-based estimation).

The premise: **no concept drift**. Where the scores are calibrated, a row scored ``p`` is
positive with probability ``p`` whatever the window, so the window's confusion matrix, and every
metric made of it, has an expectation the scores alone give: the estimate. Covariate shift (the
features move, the relationship does not) changes which scores the window holds, and so the
estimate; a changed relationship (concept drift) is invisible to it — the concept step watches
that once outcomes arrive.

- **Calibration is checked** on the reference (which has labels): the expected calibration error
  of the scores against the labels, compared with its own no-miscalibration distribution (labels
  drawn from the scores, simulated): noise alone exceeds a fixed ECE limit at small sizes. Scores
  past the 99th percentile of that distribution are recalibrated (isotonic regression, tried on
  half the reference and checked on the other half, then fitted on all of it); scores whose
  held-out ECE after recalibration stays above that percentile plus the median (isotonic
  regression fitted on as many rows has about that much error of its own) are refused in one
  line, never estimated from. The ECE's bins are of the model's own scores, so a map that
  flattens anti-informative scores to a constant does not pass for calibrated.
- **The interval is for the window's realized metric**: labels are drawn from the (calibrated)
  scores, ``draws`` times, and the metric computed on each draw gives the spread of the realized
  value around the estimate; the calibration's own error (the calibrator refitted on bootstrap
  resamples of the reference) adds its variance. 95% by default, normal-approximated.
- **The alert** compares the estimate with the reference's realized metric, one-sided at
  ``alpha``, against the noise of both: the estimate's spread over resamples of the window's
  rows and the reference value's over resamples of the reference.
- Binary (one positive-class probability column; threshold 0.5) and multiclass (one probability
  column per class, in class order; the prediction is the most probable class; recalibration is
  binary only, so miscalibrated multiclass scores are refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from driftloop.errors import ConfigError, DataError

__all__ = [
    "METRICS",
    "PerformanceEstimate",
    "PerformanceSettings",
    "RealizedPerformance",
    "estimate_performance",
    "realized_performance",
]

Array = npt.NDArray[np.float64]
METRICS = ("roc_auc", "accuracy", "f1", "precision", "recall")
MIN_REFERENCE = 200  # rows with labels: fewer leave the calibration check blind
MAX_REFERENCE = 50_000  # a larger reference is subsampled to this many rows
SPREAD_ROWS = 5_000  # the spreads of larger windows are simulated on this many rows
_ECE_BINS = 10


class PerformanceSettings(BaseModel):
    """A ``performance:`` section (``driftloop detect --config``): the label and score columns
    of the reference, the metric and the alert's level."""

    model_config = ConfigDict(extra="forbid")

    target: str
    score: str | list[str]
    metric: Literal["roc_auc", "accuracy", "f1", "precision", "recall"] = "roc_auc"
    alpha: float = Field(0.05, gt=0, lt=1)
    confidence: float = Field(0.95, gt=0.5, lt=1)


@dataclass(frozen=True, slots=True)
class PerformanceEstimate:
    """The window's estimated metric, a 95% interval for its realized value, and the verdict."""

    metric: str
    value: float
    lower: float
    upper: float
    reference_value: float
    alert: bool
    n_rows: int
    recalibrated: bool
    calibration_error: float
    confidence: float = 0.95
    p_value: float = 1.0  # one-sided: the estimate as low as this under no drop

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RealizedPerformance:
    """The window's metric once its labels arrived, an interval made the same way (its spread
    over resamples of the window's rows, and the reference value's), and whether it fell."""

    metric: str
    value: float
    lower: float
    upper: float
    reference_value: float
    alert: bool
    n_rows: int
    confidence: float = 0.95
    p_value: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def estimate_performance(
    reference: Any,
    current: Any,
    *,
    target: str,
    score: str | Sequence[str],
    metric: str = "roc_auc",
    alpha: float = 0.05,
    confidence: float = 0.95,
    draws: int = 200,
    seed: int = 0,
) -> PerformanceEstimate:
    """Estimate ``metric`` on ``current`` from its scores alone (see the module docstring).

    Examples
    --------
    >>> import polars as pl
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=4000)
    >>> ref = pl.DataFrame({"p": p, "y": (rng.uniform(size=4000) < p).astype(int)})
    >>> cur = pl.DataFrame({"p": rng.uniform(size=1000)})
    >>> e = estimate_performance(ref, cur, target="y", score="p", metric="accuracy")
    >>> bool(0.70 < e.value < 0.80 and e.lower < e.value < e.upper), e.alert
    (True, False)
    """
    names = [score] if isinstance(score, str) else list(score)
    _check_settings(metric, alpha, confidence, draws, names)
    ref_scores, labels = _reference(reference, target, names)
    cur_scores = _current(current, target, names)
    rng = np.random.default_rng(seed)
    if labels.size > MAX_REFERENCE:  # plenty for calibration; keeps the resampling bounded
        rows = rng.choice(labels.size, MAX_REFERENCE, replace=False)
        ref_scores, labels = ref_scores[rows], labels[rows]
    calibrator, ece = _calibration(ref_scores, labels, rng)
    cal_cur = _apply(calibrator, cur_scores)
    value = _expected(metric, cur_scores, cal_cur)
    rows, shrink = _spread_rows(cur_scores.shape[0], rng)
    raw, cal = cur_scores[rows], cal_cur[rows]
    order = np.argsort(raw[:, 0], kind="stable")  # sorted once: each draw's sort is then linear
    raw, cal = raw[order], cal[order]
    realized = [_realized(metric, raw, _draw(cal, rng)) for _ in range(draws)]
    realized_sd = float(np.nanstd(realized)) * shrink
    reference_sd = _calibrator_sd(metric, ref_scores, labels, cur_scores, calibrator, rng)
    half = float(stats.norm.isf((1 - confidence) / 2)) * float(np.hypot(realized_sd, reference_sd))
    reference_value = _realized(metric, ref_scores, labels)
    window_sd = _resampled_sd(metric, raw, cal, rng) * shrink
    p_value = _drop_p_value(metric, window_sd, ref_scores, labels, value, reference_value, rng)
    return PerformanceEstimate(
        metric=metric,
        value=value,
        lower=max(0.0, value - half),
        upper=min(1.0, value + half),
        reference_value=reference_value,
        alert=p_value < alpha,
        n_rows=int(cur_scores.shape[0]),
        recalibrated=calibrator is not None,
        calibration_error=ece,
        confidence=confidence,
        p_value=p_value,
    )


def realized_performance(
    reference: Any,
    current: Any,
    *,
    target: str,
    score: str | Sequence[str],
    metric: str = "roc_auc",
    alpha: float = 0.05,
    confidence: float = 0.95,
    seed: int = 0,
) -> RealizedPerformance:
    """The metric ``current`` realized, now that its labels (``target``) arrived, beside the
    reference's: the same reading as :func:`estimate_performance`'s, with the labels in place
    of the draws from the scores.

    Examples
    --------
    >>> import polars as pl
    >>> rng = np.random.default_rng(1)
    >>> p = rng.uniform(size=2000)
    >>> ref = pl.DataFrame({"p": p, "y": (rng.uniform(size=2000) < p).astype(int)})
    >>> q = rng.uniform(0.3, 0.7, size=1000)  # harder rows: the realized AUC falls
    >>> cur = pl.DataFrame({"p": q, "y": (rng.uniform(size=1000) < q).astype(int)})
    >>> r = realized_performance(ref, cur, target="y", score="p")
    >>> r.value < r.reference_value, r.alert
    (True, True)
    """
    names = [score] if isinstance(score, str) else list(score)
    _check_settings(metric, alpha, confidence, 30, names)
    ref_scores, ref_labels = _reference(reference, target, names)
    cur_scores, labels = _labelled(current, target, names)
    rng = np.random.default_rng(seed)
    value = _realized(metric, cur_scores, labels)
    reference_value = _realized(metric, ref_scores, ref_labels)
    window_sd = _realized_sd(metric, cur_scores, labels, rng)
    half = float(stats.norm.isf((1 - confidence) / 2)) * window_sd
    p_value = _drop_p_value(metric, window_sd, ref_scores, ref_labels, value, reference_value, rng)
    return RealizedPerformance(
        metric=metric,
        value=value,
        lower=max(0.0, value - half),
        upper=min(1.0, value + half),
        reference_value=reference_value,
        alert=p_value < alpha,
        n_rows=int(labels.size),
        confidence=confidence,
        p_value=p_value,
    )


# -- input ----------------------------------------------------------------------------------


def _check_settings(
    metric: str, alpha: float, confidence: float, draws: int, names: list[str]
) -> None:
    if metric not in METRICS:
        raise ConfigError(f"Unknown metric '{metric}'. Valid: {', '.join(METRICS)}.")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be in (0, 1), e.g. 0.05. Got {alpha!r}.")
    if not 0.5 < confidence < 1:
        raise ConfigError(f"confidence must be in (0.5, 1), e.g. 0.95. Got {confidence!r}.")
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 30:
        raise ConfigError(f"draws must be a whole number of at least 30. Got {draws!r}.")
    if not names or len(names) == 2:
        raise ConfigError(
            f"score must name the positive class's probability column, or one column per class "
            f"for three or more classes. Got {names!r}."
        )


def _column(frame: Any, name: str, side: str) -> Array:
    if name not in frame.columns:
        raise DataError(
            f"The {side} has no column '{name}': pass the score columns your model wrote."
        )
    values = np.asarray(frame[name].to_numpy(), dtype=np.float64)
    return values


def _scores(frame: Any, names: list[str], side: str) -> Array:
    scores = np.column_stack([_column(frame, n, side) for n in names])
    bad = ~np.isfinite(scores) | (scores < 0) | (scores > 1)
    if bad.any():
        row, col = map(int, np.argwhere(bad)[0])
        raise DataError(
            f"Score column '{names[col]}' of the {side} holds {float(scores[row, col]):g} at row "
            f"{row}: scores are probabilities in [0, 1] (pass predict_proba's output, not labels "
            "or logits)."
        )
    if len(names) > 1:
        scores = scores / np.clip(scores.sum(axis=1, keepdims=True), 1e-12, None)
    return scores


def _reference(frame: Any, target: str, names: list[str]) -> tuple[Array, npt.NDArray[np.int64]]:
    scores = _scores(frame, names, "reference")
    raw = _column(frame, target, "reference")
    if not np.isfinite(raw).all():
        raise DataError(f"The reference's label column '{target}' has missing labels: drop them.")
    labels = raw.astype(np.int64)
    classes = 2 if len(names) == 1 else len(names)
    if not np.isin(labels, np.arange(classes)).all():
        raise DataError(
            f"The reference's label column '{target}' must hold 0..{classes - 1} (class order of "
            f"the score columns). Got {sorted(set(labels.tolist()))[:5]}."
        )
    if np.unique(labels).size < 2:
        raise DataError(
            f"The reference's label column '{target}' holds a single class: the estimate needs "
            "a reference with every class."
        )
    if labels.size < MIN_REFERENCE:
        raise DataError(
            f"The reference has {labels.size} labelled rows; performance estimation needs at "
            f"least {MIN_REFERENCE} to check the scores' calibration: use a longer reference."
        )
    return scores, labels


def _current(frame: Any, target: str, names: list[str]) -> Array:
    if target in frame.columns:
        raise DataError(
            f"The window holds the label column '{target}': estimation is for windows without "
            "labels (drop it, or compare realized performance with the concept step)."
        )
    scores = _scores(frame, names, "window")
    if scores.shape[0] < 2:
        raise DataError(f"The window has {scores.shape[0]} scored rows: at least 2 are needed.")
    return scores


def _labelled(frame: Any, target: str, names: list[str]) -> tuple[Array, npt.NDArray[np.int64]]:
    """The window's scored rows whose label arrived, and their labels."""
    scores = _scores(frame, names, "window")
    raw = _column(frame, target, "window")
    known = np.isfinite(raw)
    classes = 2 if len(names) == 1 else len(names)
    labels = raw[known].astype(np.int64)
    if not np.isin(labels, np.arange(classes)).all():
        raise DataError(
            f"The window's label column '{target}' must hold 0..{classes - 1}. Got "
            f"{sorted(set(labels.tolist()))[:5]}."
        )
    if labels.size < 2 or np.unique(labels).size < 2:
        raise DataError(
            f"The window has {labels.size} labelled rows of {np.unique(labels).size} class(es): "
            "its realized performance needs both classes."
        )
    return scores[known], labels


# -- calibration ------------------------------------------------------------------------------


def _confidence_of(scores: Array) -> tuple[Array, Array]:
    """Each row's predicted class's probability, and the class predicted."""
    if scores.shape[1] == 1:
        p = scores[:, 0]
        predicted = (p >= 0.5).astype(np.float64)
        return np.where(predicted == 1, p, 1 - p), predicted
    predicted = scores.argmax(axis=1)
    return scores[np.arange(scores.shape[0]), predicted], predicted.astype(np.float64)


def _ece(scores: Array, calibrated: Array, labels: npt.NDArray[np.int64]) -> float:
    """Expected calibration error over equal-mass bins of the model's own ``scores``: binary,
    the ``calibrated`` chance of the positive class against its frequency; multiclass, the
    chance of the predicted class against how often it is right. Binned on the model's scores,
    a map that flattens anti-informative scores to a constant does not pass for calibrated."""
    if scores.shape[1] == 1:
        key, chance, hit = scores[:, 0], calibrated[:, 0], labels.astype(np.float64)
    else:
        key, predicted = _confidence_of(scores)
        chance = calibrated[np.arange(labels.size), predicted.astype(np.int64)]
        hit = (predicted == labels).astype(np.float64)
    order = np.argsort(key, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, _ECE_BINS):
        if chunk.size:
            total += chunk.size * abs(float(chance[chunk].mean() - hit[chunk].mean()))
    return total / labels.size


def _null_ece(
    scores: Array,
    calibrated: Array,
    rng: np.random.Generator,
    sims: int = 100,
    *,
    fitted: bool = False,
) -> float:
    """The 99th percentile of the ECE calibrated scores show by chance at this size, and with
    ``fitted`` that plus the median: a map fitted on as many rows has about that much error of
    its own."""
    draws = [_ece(scores, calibrated, _draw(calibrated, rng)) for _ in range(sims)]
    high = float(np.quantile(draws, 0.99))
    return high + float(np.median(draws)) if fitted else high


def _calibration(
    scores: Array, labels: npt.NDArray[np.int64], rng: np.random.Generator
) -> tuple[Any, float]:
    """None when the scores are calibrated; else an isotonic map fitted on the reference, after
    checking on a held-out half that it calibrates. Refuses scores it cannot fix."""
    ece = _ece(scores, scores, labels)
    if ece <= _null_ece(scores, scores, rng):
        return None, ece
    if scores.shape[1] > 1:
        raise DataError(
            f"The reference's multiclass scores are not calibrated (ECE {ece:.3f}): recalibrate "
            "the model (e.g. CalibratedClassifierCV) before estimating its performance."
        )
    half = rng.permutation(labels.size)
    fit, check = half[: labels.size // 2], half[labels.size // 2 :]
    held = _apply(_isotonic(scores[fit, 0], labels[fit]), scores[check])
    after = _ece(scores[check], held, labels[check])
    if after > _null_ece(scores[check], held, rng, fitted=True):
        raise DataError(
            f"The reference's scores are not calibrated (ECE {ece:.3f}) and recalibration on the "
            f"reference does not fix them on held-out rows (ECE {after:.3f}): estimation would "
            "be wrong, so it is refused. Use a larger reference, or calibrate the model."
        )
    return _isotonic(scores[:, 0], labels), ece


def _isotonic(p: Array, labels: npt.NDArray[np.int64]) -> Any:
    from sklearn.isotonic import IsotonicRegression

    return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, labels)


def _apply(calibrator: Any, scores: Array) -> Array:
    if calibrator is None:
        return scores
    return np.asarray(calibrator.predict(scores[:, 0]), dtype=np.float64)[:, None]


def _calibrator_sd(
    metric: str,
    ref_scores: Array,
    labels: npt.NDArray[np.int64],
    cur_scores: Array,
    calibrator: Any,
    rng: np.random.Generator,
    resamples: int = 30,
) -> float:
    """The estimate's spread from the calibrator's own fitting noise (0 when none is fitted)."""
    if calibrator is None:
        return 0.0
    values = []
    for _ in range(resamples):
        rows = rng.integers(0, labels.size, labels.size)
        refit = _isotonic(ref_scores[rows, 0], labels[rows])
        values.append(_expected(metric, cur_scores, _apply(refit, cur_scores)))
    return float(np.std(values))


# -- metrics ----------------------------------------------------------------------------------


def _draw(scores: Array, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Labels drawn from calibrated scores."""
    if scores.shape[1] == 1:
        return (rng.random(scores.shape[0]) < scores[:, 0]).astype(np.int64)
    cumulative = np.cumsum(scores, axis=1)
    drawn = (rng.random((scores.shape[0], 1)) > cumulative[:, :-1]).sum(axis=1)
    return np.asarray(drawn, dtype=np.int64)


def _expected(metric: str, scores: Array, calibrated: Array) -> float:
    """The metric of the expected confusion (AUC: of the expected pair ordering): the model's
    predictions and ordering from its ``scores``, each row's class odds from ``calibrated``."""
    if metric == "roc_auc":
        return _soft_auc(scores, calibrated)
    classes = 2 if scores.shape[1] == 1 else scores.shape[1]
    full = (
        np.column_stack([1 - calibrated[:, 0], calibrated[:, 0]])
        if calibrated.shape[1] == 1
        else calibrated
    )
    _, predicted = _confidence_of(scores)
    confusion = np.zeros((classes, classes))  # [true, predicted]
    for k in range(classes):
        confusion[:, k] = full[predicted == k].sum(axis=0)
    return _from_confusion(metric, confusion)


def _realized(metric: str, scores: Array, labels: npt.NDArray[np.int64]) -> float:
    if metric == "roc_auc":
        return _soft_auc(scores, None, labels)
    classes = 2 if scores.shape[1] == 1 else scores.shape[1]
    _, predicted = _confidence_of(scores)
    confusion = np.zeros((classes, classes))
    np.add.at(confusion, (labels, predicted.astype(np.int64)), 1.0)
    return _from_confusion(metric, confusion)


def _from_confusion(metric: str, confusion: Array) -> float:
    total = confusion.sum()
    if metric == "accuracy":
        return float(np.trace(confusion) / total)
    tp = np.diag(confusion)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(tp / confusion.sum(axis=0))
        recall = np.nan_to_num(tp / confusion.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    per_class = {"precision": precision, "recall": recall, "f1": f1}[metric]
    # binary: the positive class's; multiclass: the macro average
    return float(per_class[1] if confusion.shape[0] == 2 else per_class.mean())


def _soft_auc(
    scores: Array, calibrated: Array | None, labels: npt.NDArray[np.int64] | None = None
) -> float:
    """ROC-AUC of the ``scores``' ordering with each row positive with weight its calibrated
    probability (the expected AUC's ratio form) or, with ``labels``, the realized AUC;
    multiclass: the one-vs-rest macro average."""

    def weight(k: int) -> Any:
        if labels is not None:
            return labels == (1 if scores.shape[1] == 1 else k)
        assert calibrated is not None
        return calibrated[:, k]

    if scores.shape[1] > 1:
        return float(
            np.mean([_binary_auc(scores[:, k], weight(k)) for k in range(scores.shape[1])])
        )
    return _binary_auc(scores[:, 0], weight(0))


def _binary_auc(score: Array, weight: Any) -> float:
    """Σ w_i (1 - w_j) [s_i > s_j] (ties half) over Σ w_i Σ (1 - w_j), by sorting once."""
    w = np.asarray(weight, dtype=np.float64)
    order = np.argsort(score, kind="stable")
    s, w = score[order], w[order]
    negative = 1 - w
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    group_pos = np.add.reduceat(w, starts)
    group_neg = np.add.reduceat(negative, starts)
    below = np.cumsum(group_neg) - group_neg
    pairs = float(np.dot(group_pos, below + group_neg / 2))
    # a row is never paired with itself: remove its own w (1 - w) / 2 share of the ties
    pairs -= float(np.dot(w, negative)) / 2
    denominator = float(w.sum() * negative.sum() - np.dot(w, negative))
    return pairs / denominator if denominator > 0 else float("nan")


# -- the verdict ------------------------------------------------------------------------------


def _spread_rows(n: int, rng: np.random.Generator) -> tuple[Any, float]:
    """The rows the spreads are simulated on: all of them, or a random ``SPREAD_ROWS`` of a
    larger window with the factor (a metric's spread falls as one over the root of the rows)
    that scales their spread to the window's size."""
    if n <= SPREAD_ROWS:
        return slice(None), 1.0
    return rng.choice(n, SPREAD_ROWS, replace=False), float(np.sqrt(SPREAD_ROWS / n))


def _bootstrap_sd(n: int, metric_of: Any, rng: np.random.Generator, times: int = 100) -> float:
    """The spread of ``metric_of(rows)`` over ``times`` resamples (with replacement) of ``n``
    rows: the estimate's over the window's rows, a realized metric's over its labelled rows."""
    return float(np.nanstd([metric_of(rng.integers(0, n, n)) for _ in range(times)]))


def _resampled_sd(metric: str, scores: Array, calibrated: Array, rng: np.random.Generator) -> float:
    """The estimate's spread over resamples of the window's rows."""
    return _bootstrap_sd(
        scores.shape[0], lambda rows: _expected(metric, scores[rows], calibrated[rows]), rng
    )


def _realized_sd(
    metric: str, scores: Array, labels: npt.NDArray[np.int64], rng: np.random.Generator
) -> float:
    """The realized metric's spread over resamples of the labelled rows."""
    return _bootstrap_sd(
        labels.size, lambda rows: _realized(metric, scores[rows], labels[rows]), rng
    )


def _drop_p_value(
    metric: str,
    window_sd: float,
    ref_scores: Array,
    labels: npt.NDArray[np.int64],
    value: float,
    reference_value: float,
    rng: np.random.Generator,
) -> float:
    """How likely a value this far below the reference's realized metric is under no drop,
    one-sided, against both noises: the window's (``window_sd``) and the reference value's
    (resampled reference)."""
    spread = float(np.hypot(window_sd, _realized_sd(metric, ref_scores, labels, rng)))
    if not spread > 0:
        return 1.0 if value >= reference_value else 0.0
    return float(stats.norm.sf((reference_value - value) / spread))
