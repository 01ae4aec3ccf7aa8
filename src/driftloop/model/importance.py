"""How much a model relies on each feature: permutation importance on its holdout.

Computed once per registered version (``importance.json`` beside the model) so that drift can be
ranked by what the model uses: a drifted feature the model ignores is low impact. Each feature's
share is its mean metric loss when its holdout values are shuffled (scikit-learn's
``permutation_importance``, seeded), clipped at zero and normalised to sum to one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from driftloop.drift.results import LOW_IMPACT
from driftloop.model.metrics import get_metric

__all__ = ["LOW_IMPACT", "reliance"]
_MAX_ROWS = 2_000


def reliance(estimator: Any, X: Any, y: Any, metric: str, *, seed: int = 0) -> dict[str, float]:
    """Each feature's share of the model's reliance, from shuffling it on ``X`` (a holdout).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"used": rng.normal(size=500), "ignored": rng.normal(size=500)})
    >>> y = 3 * X["used"] + rng.normal(0, 0.1, 500)
    >>> shares = reliance(LinearRegression().fit(X, y), X, y, "rmse")
    >>> shares["used"] > 0.95, shares["ignored"] < 0.02
    (True, True)
    """
    from sklearn.inspection import permutation_importance

    chosen = get_metric(metric)
    if len(X) > _MAX_ROWS:
        rows = np.random.default_rng(seed).choice(len(X), _MAX_ROWS, replace=False)
        X, y = X.iloc[rows], y.iloc[rows]

    def score(model: Any, features: Any, truth: Any) -> float:
        value = chosen.fn(np.asarray(truth, dtype=float), np.asarray(model.predict(features)))
        return value if chosen.greater_is_better else -value

    result = permutation_importance(estimator, X, y, scoring=score, n_repeats=5, random_state=seed)
    losses = np.clip(result.importances_mean, 0.0, None)
    total = float(losses.sum())
    shares = losses / total if total > 0 else np.zeros_like(losses)
    return {str(name): float(share) for name, share in zip(X.columns, shares, strict=True)}
