"""The domain classifier: can a model tell current rows from reference rows?

Equal numbers of rows from each side (the smaller side's count, at most ``max_rows``: with a
reference of 100,000 rows and a window of 500, 500 of each) are labelled 0 and 1; a
``HistGradientBoostingClassifier`` (labels as ordinal codes with ``categorical_features``, missing
values native) is fitted in stratified K-fold cross-validation. The statistic is the mean
out-of-fold ROC-AUC: 0.5 when the sides look alike, towards 1 when they differ in any way,
including in how columns relate.

P-value: each fold's scores come from a model that never saw that fold, so under no drift the
fold's labels are exchangeable given its scores and its AUC is a Mann-Whitney statistic with a
known null (one-sided, ties corrected: :func:`scipy.stats.mannwhitneyu`). The folds' AUCs are not
independent, though: each fold's model was trained on the others' labels, and rows that nearly
repeat (neighbouring days of bike data) make the folds err together. Treating them as independent
(permuting labels within every fold at once) raised the false alarms on bike-sharing days to 10%
at alpha 0.05. So the folds' p-values are combined by Rüger's rule, valid under any dependence:
``p = K / r * p_(r)``, the r-th smallest of the K fold p-values with r = ceil(K / 2): with the
default two folds, twice the smaller one. Fewer, larger folds lose less to the combination: on
bike days with a quarter of the rows' ``atemp`` mis-keyed, 2 folds caught 33% of 40 windows, 3
folds 28% and 5 folds 18%, each with at most 2.5% false alarms. The
``threshold`` reported is the AUC each fold would need for ``p`` to reach alpha (normal
approximation, averaged over folds). False-alarm and detection rates are measured in
``tests/drift/test_multivariate.py`` and ``benchmarks/bench_multivariate.py``.

Attribution: permutation importance on the held-out folds (the AUC lost when one column is
shuffled), shares of the total.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from driftloop.drift.attribution import attribution
from driftloop.drift.results import MultivariateDrift

if TYPE_CHECKING:
    from driftloop.drift.encoding import Encoded
    from driftloop.drift.settings import MultivariateSettings

__all__ = ["domain_classifier"]


FloatArray = npt.NDArray[np.float64]


def domain_classifier(data: Encoded, settings: MultivariateSettings) -> MultivariateDrift:
    """Cross-validated AUC of reference vs current rows, its p-value, the columns behind it."""
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
    rank = math.ceil(settings.folds / 2)
    level = settings.alpha * rank / settings.folds  # each fold's p-value at the combined alpha
    aucs, p_values, critical, losses = [], [], [], []
    for train, test in folds.split(x, y):
        model = _model(data.categorical, settings.seed, len(train)).fit(x[train], y[train])
        scores = model.predict_proba(x[test])[:, 1]
        aucs.append(_auc(scores, y[test]))
        p_values.append(_fold_p_value(scores, y[test]))
        critical.append(_critical_auc(int(y[test].sum()), int((1 - y[test]).sum()), level))
        losses.append(_importance(model, x[test], y[test], aucs[-1], rng))
    p_value = min(1.0, settings.folds / rank * sorted(p_values)[rank - 1])
    top, shares = attribution(data.names, np.mean(losses, axis=0))
    return MultivariateDrift(
        method="domain_classifier",
        statistic=float(np.mean(aucs)),
        threshold=float(np.mean(critical)),
        p_value=p_value,
        drifted=p_value < settings.alpha,
        top_features=top,
        columns=data.names,
        n_reference=k,
        n_current=k,
        importances=shares,
    )


def _model(categorical: tuple[bool, ...], seed: int, rows: int) -> Any:
    """The classifier for ``rows`` training rows. Its leaves hold at least 20 rows (sklearn's
    default) down to an eighth of the rows: with the default, a month of days (31 rows a side,
    31 to train on) allows no split at all, and July told from January scored an AUC of 0.5."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=60,
        learning_rate=0.1,
        max_leaf_nodes=15,
        min_samples_leaf=min(20, max(2, rows // 8)),
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


def _fold_p_value(scores: FloatArray, labels: npt.NDArray[np.int64]) -> float:
    """One-sided Mann-Whitney p-value: current rows (1) score higher than reference rows (0)."""
    from scipy.stats import mannwhitneyu

    result = mannwhitneyu(scores[labels == 1], scores[labels == 0], alternative="greater")
    return float(result.pvalue)


def _critical_auc(n_pos: int, n_neg: int, level: float) -> float:
    """The AUC whose one-sided p-value is ``level`` (normal approximation, no ties)."""
    from scipy.stats import norm

    return float(0.5 + norm.isf(level) * math.sqrt((n_pos + n_neg + 1) / (12 * n_pos * n_neg)))


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
