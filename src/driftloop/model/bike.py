"""The default trainer for the bike-sharing demo (the seed pipeline's model).

Ridge regression on one-hot encoded calendar and weather categoricals plus the numeric weather
features, trained on ``log1p(cnt)`` and predicting counts, with ``GridSearchCV`` over ``alpha``
(cv=3). The grid search scores with the *negated* RMSLE: a scorer built with
``greater_is_better=True`` on an error would pick the worst alpha.

Like any team trainer, this module needs only pandas, numpy and scikit-learn — not driftloop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

CATEGORICAL = ["season", "mnth", "holiday", "weekday", "workingday", "weathersit"]
NUMERIC = ["temp", "atemp", "hum", "windspeed", "yr"]
ALPHAS = [0.1, 1, 2, 3, 4, 10, 100]


def _rmsle(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    pred = np.clip(y_pred, 0, None)
    return float(np.sqrt(np.mean((np.log1p(pred) - np.log1p(y_true)) ** 2)))


def train(X: pd.DataFrame, y: pd.Series, params: dict[str, Any]) -> GridSearchCV:
    """Fit the bike-sharing demand model; ``params`` may override ``alphas`` and ``cv``."""
    categorical = [c for c in CATEGORICAL if c in X.columns]
    numeric = [c for c in NUMERIC if c in X.columns]
    features = ColumnTransformer(
        [
            ("onehot", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", "passthrough", numeric),
        ]
    )
    model = TransformedTargetRegressor(
        regressor=Pipeline([("features", features), ("ridge", Ridge())]),
        func=np.log1p,
        inverse_func=np.expm1,
    )
    grid = GridSearchCV(
        model,
        {"regressor__ridge__alpha": list(params.get("alphas", ALPHAS))},
        scoring=make_scorer(_rmsle, greater_is_better=False),
        cv=int(params.get("cv", 3)),
    )
    return grid.fit(X[categorical + numeric], y)
