"""Holdout metrics, each knowing which direction is better."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from driftloop.errors import ConfigError

__all__ = ["METRICS", "Metric", "get_metric"]

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    fn: Callable[[Array, Array], float]
    greater_is_better: bool

    def better(self, challenger: float, champion: float, margin: float = 0.0) -> bool:
        """Whether ``challenger`` beats ``champion`` by at least ``margin`` (relative).

        Examples
        --------
        >>> rmse = get_metric("rmse")
        >>> rmse.better(0.9, 1.0, margin=0.05), rmse.better(0.97, 1.0, margin=0.05)
        (True, False)
        >>> get_metric("r2").better(0.80, 0.70)
        True
        """
        if self.greater_is_better:
            return challenger >= champion + abs(champion) * margin and challenger > champion
        return challenger <= champion - abs(champion) * margin and challenger < champion


def rmsle(y_true: Array, y_pred: Array) -> float:
    """Root mean squared log error; negative predictions are clipped at 0."""
    pred = np.clip(np.asarray(y_pred, dtype=float), 0, None)
    return float(
        np.sqrt(np.mean((np.log1p(pred) - np.log1p(np.asarray(y_true, dtype=float))) ** 2))
    )


def rmse(y_true: Array, y_pred: Array) -> float:
    return float(np.sqrt(np.mean((np.asarray(y_true, float) - np.asarray(y_pred, float)) ** 2)))


def mae(y_true: Array, y_pred: Array) -> float:
    return float(np.mean(np.abs(np.asarray(y_true, float) - np.asarray(y_pred, float))))


def r2(y_true: Array, y_pred: Array) -> float:
    from sklearn.metrics import r2_score

    return float(r2_score(y_true, y_pred))


def accuracy(y_true: Array, y_pred: Array) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def f1(y_true: Array, y_pred: Array) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, average="macro"))


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("rmsle", rmsle, False),
        Metric("rmse", rmse, False),
        Metric("mae", mae, False),
        Metric("r2", r2, True),
        Metric("accuracy", accuracy, True),
        Metric("f1", f1, True),
    )
}


def get_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise ConfigError(
            f"Unknown metric '{name}'. Valid metrics: {', '.join(sorted(METRICS))}."
        ) from None
