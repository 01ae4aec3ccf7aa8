"""Training with the team's own code: load the entry point, split, fit, score.

The entry point is ``package.module:function`` or ``path/to/script.py:function``. It receives the
training features, the target and the configured params, and returns a fitted estimator with a
``predict`` method — or ``(estimator, metrics_dict)``. It never needs to import driftloop.
driftloop keeps a time-ordered holdout (the latest ``holdout`` share of rows) that neither the
trainer nor the grid search sees; challenger and champion are both scored on it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

from driftloop.config import TrainingConfig
from driftloop.errors import ConfigError, DataError, DriftloopError
from driftloop.model.metrics import get_metric

__all__ = ["TrainedModel", "fit", "load_entry_point", "split_holdout"]

Trainer = Callable[[pd.DataFrame, pd.Series, dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """A fitted estimator with its holdout and what it scored there."""

    estimator: Any
    features: tuple[str, ...]
    X_train: pd.DataFrame
    X_holdout: pd.DataFrame
    y_holdout: pd.Series
    score: float
    metric: str
    user_metrics: dict[str, float]
    params: dict[str, Any]
    seconds: float
    baseline_score: float | None = None  # a trivial model's score on the same holdout


def trivial_score(metric: Any, y_train: Any, y_holdout: Any) -> float | None:
    """The holdout score of the trivial model: the training mean for regression metrics, the
    majority class for classification ones. None when it cannot be computed."""
    import numpy as np

    try:
        if metric.name in ("accuracy", "f1"):
            values, counts = np.unique(y_train, return_counts=True)
            guess = np.full(len(y_holdout), values[np.argmax(counts)])
        else:
            guess = np.full(len(y_holdout), float(np.mean(y_train)))
        return float(metric.fn(y_holdout, guess))
    except (TypeError, ValueError):
        return None


def load_entry_point(spec: str) -> Trainer:
    """Import ``module:function`` or ``file.py:function``.

    Examples
    --------
    >>> load_entry_point("driftloop.model.bike:train").__name__
    'train'
    """
    module_name, sep, function = spec.rpartition(":")
    if not sep or not module_name or not function:
        raise ConfigError(
            f"Invalid training entry point {spec!r}: use 'package.module:function' or "
            "'path/to/train.py:function'."
        )
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise ConfigError(f"Training script '{path}' does not exist. Check the path.")
            loaded = importlib.util.spec_from_file_location(f"driftloop_user_{path.stem}", path)
            assert loaded is not None and loaded.loader is not None
            module = importlib.util.module_from_spec(loaded)
            sys.modules[loaded.name] = module  # pickling/skops need the module importable
            loaded.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except DriftloopError:
        raise
    except Exception as err:  # the user's module failed to import: say which and why
        raise ConfigError(
            f"Cannot import training module '{module_name}': {type(err).__name__}: {err}."
        ) from err
    trainer = getattr(module, function, None)
    if not callable(trainer):
        raise ConfigError(f"Training module '{module_name}' has no function '{function}'.")
    return trainer  # type: ignore[no-any-return]


def split_holdout(
    frame: pl.DataFrame, time_column: str | None, holdout: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The earliest rows for training, the latest ``holdout`` share for evaluation."""
    if time_column is not None:
        frame = frame.sort(time_column, maintain_order=True)
    n_holdout = max(1, round(frame.height * holdout))
    if frame.height - n_holdout < 2:
        raise DataError(
            f"Too few rows to train: {frame.height} rows leave {frame.height - n_holdout} for "
            "training after the holdout. Widen the training window."
        )
    return frame.head(frame.height - n_holdout), frame.tail(n_holdout)


def feature_columns(frame: pl.DataFrame, spec: TrainingConfig) -> tuple[str, ...]:
    if spec.target not in frame.columns:
        raise DataError(
            f"Target column '{spec.target}' is not in the training data (columns: "
            f"{', '.join(frame.columns[:12])}). Set training.target."
        )
    if spec.features is not None:
        missing = [c for c in spec.features if c not in frame.columns]
        if missing:
            raise DataError(f"Feature column '{missing[0]}' is not in the training data.")
        return tuple(spec.features)
    skip = {spec.target, spec.time_column, *spec.exclude}
    return tuple(c for c in frame.columns if c not in skip)


def fit(frame: pl.DataFrame, spec: TrainingConfig) -> TrainedModel:
    """Split, call the team's trainer on the training part, and score it on the holdout."""
    started = time.perf_counter()
    trainer = load_entry_point(spec.entry_point)
    features = feature_columns(frame, spec)
    train, test = split_holdout(frame.drop_nulls([spec.target]), spec.time_column, spec.holdout)
    X_train, y_train = train.select(features).to_pandas(), train[spec.target].to_pandas()
    X_test, y_test = test.select(features).to_pandas(), test[spec.target].to_pandas()
    try:
        returned = trainer(X_train, y_train, dict(spec.params))
    except Exception as err:
        raise DriftloopError(
            f"The training entry point '{spec.entry_point}' failed: {type(err).__name__}: {err}."
        ) from err
    estimator, user_metrics = returned if isinstance(returned, tuple) else (returned, {})
    if not hasattr(estimator, "predict"):
        raise ConfigError(
            f"The training entry point '{spec.entry_point}' returned {type(estimator).__name__}, "
            "not a fitted estimator with a predict method."
        )
    metric = get_metric(spec.metric)
    score = metric.fn(y_test.to_numpy(), estimator.predict(X_test))
    baseline = trivial_score(metric, y_train.to_numpy(), y_test.to_numpy())
    return TrainedModel(
        estimator=estimator,
        features=features,
        X_train=X_train,
        X_holdout=X_test,
        y_holdout=y_test,
        score=score,
        metric=spec.metric,
        user_metrics={k: float(v) for k, v in dict(user_metrics).items()},
        params=dict(spec.params),
        seconds=time.perf_counter() - started,
        baseline_score=baseline,
    )
