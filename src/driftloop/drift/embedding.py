"""Embedding drift: the kernel two-sample test (MMD) on vectors, with a permutation p-value.

The distance is the unbiased estimate of MMD² (Gretton et al., 2012) under a Gaussian kernel
whose width is the median pairwise distance of the pooled rows (the median heuristic). Its
p-value is a permutation test over the same kernel matrix, so its level holds at any size and
dimension; rows are capped at ``max_rows`` a side, drawn at random (seeded), which bounds the
time and memory whatever the reference's size (a 100,000-row reference costs what 2,000 do).

What moved: the dimensions whose means moved most, by the standardised mean difference
(current mean minus reference mean, over the pooled standard deviation), on all rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from driftloop.drift.permutation import bounded_rows, mean_shift, permutation_test, relabellings
from driftloop.drift.results import Movement

__all__ = ["EmbeddingDrift", "mmd_test", "moved_dimensions"]

MAX_ROWS = 2000
PERMUTATIONS = 500
TOP_MOVED = 5
_MEDIAN_ROWS = 1000  # rows whose pairwise distances give the kernel's width


@dataclass(frozen=True, slots=True)
class EmbeddingDrift:
    """The MMD test of one embedding column (``statistic`` is the MMD² estimate)."""

    statistic: float
    p_value: float
    bandwidth: float
    n_reference: int  # rows tested (at most max_rows)
    n_current: int
    moved: tuple[Movement, ...]


def mmd_test(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    max_rows: int = MAX_ROWS,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> EmbeddingDrift:
    """Test whether two sets of vectors (rows x dimensions) come from one distribution.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> same = mmd_test(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)))
    >>> moved = mmd_test(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) + np.eye(8)[3])
    >>> bool(same.p_value > 0.05), bool(moved.p_value < 0.01), moved.moved[0].name
    (True, True, 'dim 3')
    """
    rng = np.random.default_rng(seed)
    x = bounded_rows(reference, max_rows, rng)
    y = bounded_rows(current, max_rows, rng)
    pooled = np.vstack([x, y])
    squared = _squared_distances(pooled)
    bandwidth = _median_width(squared, rng)
    kernel = np.exp(-squared / (2.0 * bandwidth**2)) if bandwidth > 0 else np.ones_like(squared)
    del squared
    labels = relabellings(len(x), len(y), permutations, rng)

    def statistics_of(members: np.ndarray) -> np.ndarray:
        return _mmd2(kernel, members, len(x), len(y))

    statistics = statistics_of(labels.members)
    return EmbeddingDrift(
        statistic=float(statistics[0]),
        p_value=permutation_test(statistics_of, labels, rng, statistics),
        bandwidth=bandwidth,
        n_reference=len(x),
        n_current=len(y),
        moved=moved_dimensions(reference, current),
    )


def _squared_distances(rows: np.ndarray) -> np.ndarray:
    norms = np.einsum("ij,ij->i", rows, rows)
    squared = norms[:, None] + norms[None, :] - 2.0 * (rows @ rows.T)
    np.maximum(squared, 0.0, out=squared)
    np.fill_diagonal(squared, 0.0)
    return np.asarray(squared, dtype=np.float64)


def _median_width(squared: np.ndarray, rng: np.random.Generator) -> float:
    """The median pairwise distance over (a sample of) the pooled rows."""
    n = len(squared)
    pick = np.sort(rng.choice(n, _MEDIAN_ROWS, replace=False)) if n > _MEDIAN_ROWS else None
    block = squared if pick is None else squared[np.ix_(pick, pick)]
    upper = block[np.triu_indices(len(block), k=1)]
    return float(np.sqrt(np.median(upper))) if upper.size else 0.0


def _mmd2(kernel: np.ndarray, members: np.ndarray, n: int, m: int) -> np.ndarray:
    """The unbiased MMD² of every labelling (columns of ``members``: 1 = reference)."""
    product = kernel @ members
    total = kernel.sum()
    within_x = np.einsum("ij,ij->j", members, product)
    between = product.sum(axis=0) - within_x
    within_y = total - within_x - 2.0 * between
    # a Gaussian kernel's diagonal is all ones: the within sums hold n and m of them
    mmd2 = (within_x - n) / (n * (n - 1)) + (within_y - m) / (m * (m - 1))
    return np.asarray(mmd2 - 2.0 * between / (n * m), dtype=np.float64)


def moved_dimensions(
    reference: np.ndarray, current: np.ndarray, top: int = TOP_MOVED
) -> tuple[Movement, ...]:
    """The ``top`` dimensions by absolute standardised mean difference, largest first.

    Examples
    --------
    >>> ref = np.zeros((4, 3)) + [[0.0], [1.0], [0.0], [1.0]]
    >>> cur = ref + [0.0, 0.0, 1.0]
    >>> [(m.name, round(m.score, 2)) for m in moved_dimensions(ref, cur, top=1)]
    [('dim 2', 2.0)]
    """
    ref_mean, cur_mean, score = mean_shift(reference, current)
    order = np.argsort(-np.abs(score), kind="stable")[:top]
    return tuple(
        Movement(f"dim {i}", float(ref_mean[i]), float(cur_mean[i]), float(score[i])) for i in order
    )
