"""The demo's "busy hour" classifier: logistic regression on one-hot hour and weather situation
plus the numeric weather features. Like any team trainer it needs only pandas and scikit-learn;
its ``predict_proba`` scores are what driftloop estimates the model's performance from.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

CATEGORICAL = ["hr", "weathersit"]
NUMERIC = ["workingday", "temp", "hum", "windspeed"]


def train(X: pd.DataFrame, y: pd.Series, params: dict[str, Any]) -> Pipeline:
    """Fit the busy-hour classifier; ``params`` may set ``C`` (inverse regularisation)."""
    categorical = [c for c in CATEGORICAL if c in X.columns]
    numeric = [c for c in NUMERIC if c in X.columns]
    features = ColumnTransformer(
        [
            ("onehot", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", "passthrough", numeric),
        ]
    )
    model = LogisticRegression(C=float(params.get("C", 1.0)), max_iter=1000)
    return Pipeline([("features", features), ("logistic", model)]).fit(X[categorical + numeric], y)
