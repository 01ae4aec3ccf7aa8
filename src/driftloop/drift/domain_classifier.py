"""The domain classifier: can a model tell current rows from reference rows?

Equal numbers of rows from each side (the smaller side's count, at most ``max_rows``: with a
reference of 100,000 rows and a window of 500, 500 of each) are labelled 0 and 1; a
``HistGradientBoostingClassifier`` (labels as ordinal codes with ``categorical_features``, missing
values native) is fitted in stratified K-fold cross-validation. The statistic is the mean
out-of-fold ROC-AUC: 0.5 when the sides look alike, towards 1 when they differ in any way,
including in how columns relate.

P-value: each fold's scores come from a model that never saw that fold, so under no drift the
fold's labels are exchangeable given its scores. Permuting them within each fold (vectorised over
``permutations`` draws, no refitting) gives the statistic's null distribution; the p-value is
``(1 + #{null >= observed}) / (draws + 1)``. Its false-alarm rate is measured in
``tests/drift/test_multivariate.py`` and ``benchmarks/bench_multivariate.py``.

Attribution: permutation importance on the held-out folds (the AUC lost when one column is
shuffled), shares of the total.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from driftloop.drift.multivariate import attribution
from driftloop.drift.results import MultivariateDrift

if TYPE_CHECKING:
    from driftloop.drift.multivariate import Encoded
    from driftloop.drift.settings import MultivariateSettings

__all__ = ["domain_classifier"]

_TOLERANCE = 1e-12

FloatArray = npt.NDArray[np.float64]


def domain_classifier(data: Encoded, settings: MultivariateSettings) -> MultivariateDrift:
    """Cross-validated AUC of reference vs current rows, its permutation p-value, attribution."""
    from threadpoolctl import threadpool_limits

    # A few thousand rows gain nothing from OpenMP threads, and on a busy machine they lose a lot.
    with threadpool_limits(1, user_api="openmp"):
        return _fit_and_test(data, settings)


def _fit_and_test(data: Encoded, settings: MultivariateSettings) -> MultivariateDrift:
    from sklearn.model_selection import StratifiedKFold

    k = min(len(data.reference), len(data.current))
    x = np.vstack([data.reference[:k], data.current[:k]])
    y = np.repeat([0, 1], k)
    folds = StratifiedKFold(settings.folds, shuffle=True, random_state=settings.seed)
    rng = np.random.default_rng(settings.seed)
    aucs, nulls, losses = [], [], []
    for train, test in folds.split(x, y):
        model = _model(data.categorical, settings.seed).fit(x[train], y[train])
        scores = model.predict_proba(x[test])[:, 1]
        aucs.append(_auc(scores, y[test]))
        nulls.append(_null_aucs(scores, int(y[test].sum()), settings.permutations, rng))
        losses.append(_importance(model, x[test], y[test], aucs[-1], rng))
    statistic = float(np.mean(aucs))
    null = np.mean(nulls, axis=0)
    p_value = (1 + int(np.sum(null >= statistic - _TOLERANCE))) / (settings.permutations + 1)
    top, shares = attribution(data.names, np.mean(losses, axis=0))
    return MultivariateDrift(
        method="domain_classifier",
        statistic=statistic,
        threshold=float(np.quantile(null, 1 - settings.alpha)),
        p_value=p_value,
        drifted=p_value < settings.alpha,
        top_features=top,
        columns=data.names,
        n_reference=k,
        n_current=k,
        importances=shares,
    )


def _model(categorical: tuple[bool, ...], seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=60,
        learning_rate=0.1,
        max_leaf_nodes=15,
        early_stopping=False,
        categorical_features=list(categorical) if any(categorical) else None,
        random_state=seed,
    )


def _auc(scores: FloatArray, labels: npt.NDArray[np.int64]) -> float:
    """ROC-AUC by the Mann-Whitney rank sum (ties get mid-ranks)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    return float((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _null_aucs(scores: FloatArray, n_pos: int, draws: int, rng: np.random.Generator) -> FloatArray:
    """AUCs of ``draws`` random relabellings with ``n_pos`` positives, scores held fixed."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    n_neg = len(scores) - n_pos
    chosen = np.argsort(rng.random((draws, len(scores))), axis=1)[:, :n_pos]
    rank_sums = ranks[chosen].sum(axis=1)
    return np.asarray((rank_sums - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg), dtype=np.float64)


def _importance(
    model: Any, x: FloatArray, y: npt.NDArray[np.int64], auc: float, rng: np.random.Generator
) -> FloatArray:
    """The held-out AUC lost when each column is shuffled (never below zero)."""
    losses = np.zeros(x.shape[1])
    for j in range(x.shape[1]):
        shuffled = x.copy()
        shuffled[:, j] = rng.permutation(shuffled[:, j])
        scores = model.predict_proba(shuffled)[:, 1]
        losses[j] = max(auc - _auc(scores, y), 0.0)
    return losses
