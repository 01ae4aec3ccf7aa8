"""A team's own training code, as driftloop runs it: it never imports driftloop.

Point the pipeline at it with ``training.entry_point: examples/bike_sharing/train.py:train``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor


def train(X: pd.DataFrame, y: pd.Series, params: dict[str, Any]) -> HistGradientBoostingRegressor:
    """Gradient-boosted trees on the calendar and weather features."""
    model = HistGradientBoostingRegressor(
        max_iter=int(params.get("max_iter", 200)),
        learning_rate=float(params.get("learning_rate", 0.05)),
        random_state=0,
    )
    return model.fit(X, y)
