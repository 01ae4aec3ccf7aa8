"""Two-sample permutation tests done as matrix products: many relabellings at once.

A relabelling of ``n`` reference and ``m`` current rows is a column of 0/1 memberships; the
statistics of every relabelling then come from one product with the data (``X.T @ A``) or the
kernel matrix (``K @ A``). The observed labelling counts as one of the draws, so the p-value
``(1 + #{draws >= observed}) / (1 + draws)`` is exact in level at any size.

**No floor.** ``draws`` relabellings cannot give a p-value below ``1 / (1 + draws)``, which
Holm over a wide window's columns could never reject. When at most ``REFINE_HITS`` draws reach
the observed statistic, :func:`permutation_test` refines the p-value with a second, independent
and larger set (``REFINE_DRAWS``), as :mod:`driftloop.drift.resampling` does: below the first
stage's smallest value only the second (itself valid) p-value can reject.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "REFINE_DRAWS",
    "Relabellings",
    "bounded_rows",
    "mean_differences",
    "mean_shift",
    "p_value",
    "permutation_test",
    "relabellings",
]

REFINE_HITS = 4
REFINE_DRAWS = 4000
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Relabellings:
    """``members[:, 0]`` is the observed labelling (1 = reference), then ``draws`` random ones."""

    members: np.ndarray  # (n + m) x (1 + draws), float64
    n: int
    m: int


def mean_differences(values: np.ndarray, members: np.ndarray, n: int, m: int) -> np.ndarray:
    """Mean over current minus mean over reference of each column of ``values`` ((n + m) x k),
    for every labelling in ``members``: k x labellings.

    Examples
    --------
    >>> mean_differences(np.array([[1.0], [3.0]]), np.array([[1.0], [0.0]]), 1, 1).tolist()
    [[2.0]]
    """
    totals = values.sum(axis=0)[:, None]
    ref_sums = values.T @ members
    return np.asarray((totals - ref_sums) / m - ref_sums / n, dtype=np.float64)


def relabellings(n: int, m: int, draws: int, rng: np.random.Generator) -> Relabellings:
    """The observed labelling and ``draws`` random relabellings of ``n`` + ``m`` rows.

    Examples
    --------
    >>> r = relabellings(3, 2, 4, np.random.default_rng(0))
    >>> r.members.shape, r.members.sum(axis=0).tolist()
    ((5, 5), [3.0, 3.0, 3.0, 3.0, 3.0])
    """
    observed = np.r_[np.ones(n), np.zeros(m)]
    shuffled = rng.permuted(np.tile(observed, (draws, 1)), axis=1)
    return Relabellings(np.column_stack([observed, shuffled.T]), n, m)


def p_value(statistics: np.ndarray) -> float:
    """The permutation p-value of ``statistics[0]`` (observed) among all (larger is extreme).

    Examples
    --------
    >>> p_value(np.array([3.0, 1.0, 2.0, 4.0]))
    0.5
    """
    return float(np.count_nonzero(statistics >= statistics[0]) / statistics.size)


def permutation_test(
    statistics_of: Callable[[np.ndarray], np.ndarray],
    labels: Relabellings,
    rng: np.random.Generator,
    observed: np.ndarray | None = None,
) -> float:
    """The p-value of the observed labelling's statistic, refined when the first draws leave
    it at their floor. ``statistics_of(members)`` gives one statistic per column of members;
    ``observed`` is that result for ``labels.members`` when already computed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> values = np.r_[np.zeros(20), np.ones(20)]
    >>> labels = relabellings(20, 20, 99, rng)
    >>> gap = lambda members: np.abs(values @ members / 20 - values @ (1 - members) / 20)
    >>> permutation_test(gap, labels, rng) < 1 / 100
    True
    """
    statistics = statistics_of(labels.members) if observed is None else observed
    hits = int(np.count_nonzero(statistics[1:] >= statistics[0]))
    if hits > REFINE_HITS:
        return p_value(statistics)
    reached = 0
    for start in range(0, REFINE_DRAWS, _BATCH):
        batch = relabellings(labels.n, labels.m, min(_BATCH, REFINE_DRAWS - start), rng)
        reached += int(np.count_nonzero(statistics_of(batch.members[:, 1:]) >= statistics[0]))
    return (1 + reached) / (1 + REFINE_DRAWS)


def bounded_rows(values: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``limit`` rows of ``values``, drawn without replacement (all when fewer).

    Examples
    --------
    >>> bounded_rows(np.arange(10).reshape(5, 2), 3, np.random.default_rng(0)).shape
    (3, 2)
    """
    if len(values) <= limit:
        return values
    return values[np.sort(rng.choice(len(values), limit, replace=False))]


def mean_shift(
    reference: np.ndarray, current: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each column's mean on both sides and its standardised mean difference (current minus
    reference, over the pooled standard deviation; 0 where both sides are constant).

    Examples
    --------
    >>> ref, cur, smd = mean_shift(np.array([[0.0], [2.0]]), np.array([[1.0], [3.0]]))
    >>> ref.tolist(), cur.tolist(), smd.tolist()
    ([1.0], [2.0], [1.0])
    """
    ref_mean, cur_mean = reference.mean(axis=0), current.mean(axis=0)
    spread = np.sqrt((reference.var(axis=0) + current.var(axis=0)) / 2.0)
    smd = np.divide(cur_mean - ref_mean, spread, out=np.zeros_like(spread), where=spread > 0)
    return ref_mean, cur_mean, smd
