"""Chi-square test of homogeneity on the 2 x k contingency table of both samples.

This is the two-sample test (:func:`scipy.stats.chi2_contingency`, with Yates' correction when
the table is 2 x 2, as scipy does). Comparing current counts against reference proportions taken
as exact — the one-sample ``chisquare`` some tools use — ignores the reference's own sampling
noise and raises false alarms far above the stated rate.

When the table is sparse (Cochran's rule fails: an expected count below 1, or more than 20% of
them below 5 — many categories, a short window), the chi-square distribution is a poor guide and
the p-value is a conditional Monte Carlo one (:func:`driftloop.drift.resampling.chisquare_p_value`).
A sparse table of more than ``RESAMPLE_MAX_CELLS`` cells (a forced ``chisquare`` on a continuous
column: one cell per distinct value) would cost its cells times 1,999 draws; its neighbouring cells
(in label order) are merged instead, from the pooled counts alone, until every merged cell expects
at least 5 values on each side, and the asymptotic test is read on the merged table. The pooled
counts are fixed under no drift, so merging by them keeps the test's level.
"""

from __future__ import annotations

import numpy as np

from driftloop.drift.samples import Sample, category_counts

__all__ = ["RESAMPLE_MAX_CELLS", "chisquare_test", "sparse"]

RESAMPLE_MAX_CELLS = 5_000


def chisquare_test(reference: Sample, current: Sample) -> tuple[float, float]:
    """Return ``(statistic, p_value)`` of the chi-square test of homogeneity.

    Examples
    --------
    >>> from driftloop.drift.samples import CategoricalSample
    >>> r = CategoricalSample.from_counts(["a", "b", "c"], [50, 30, 20], n_rows=100)
    >>> c = CategoricalSample.from_counts(["a", "b", "c"], [20, 30, 50], n_rows=100)
    >>> stat, p = chisquare_test(r, c)
    >>> from scipy import stats
    >>> expected = stats.chi2_contingency([[50, 30, 20], [20, 30, 50]])
    >>> bool(np.isclose(stat, expected.statistic) and np.isclose(p, expected.pvalue))
    True
    """
    _, ref_counts, cur_counts = category_counts(reference, current)
    if ref_counts.size < 2:
        return 0.0, 1.0  # one category on both sides: nothing can have shifted
    from scipy import stats  # deferred: importing scipy.stats costs ~0.5 s

    table = np.vstack([ref_counts, cur_counts])
    result = stats.chi2_contingency(table)
    if sparse(result.expected_freq) and ref_counts.size > RESAMPLE_MAX_CELLS:
        table = merged_cells(ref_counts, cur_counts)
        if table.shape[1] < 2:
            return 0.0, 1.0
        result = stats.chi2_contingency(table)
        return float(result.statistic), float(result.pvalue)
    if sparse(result.expected_freq):
        from driftloop.drift import resampling

        return float(result.statistic), resampling.chisquare_p_value(ref_counts, cur_counts)
    return float(result.statistic), float(result.pvalue)


def sparse(expected: np.ndarray) -> bool:
    """Cochran's rule fails: an expected count below 1, or over 20% of them below 5."""
    return bool(expected.min() < 1 or np.mean(expected < 5) > 0.2)


def merged_cells(ref_counts: np.ndarray, cur_counts: np.ndarray) -> np.ndarray:
    """The 2 x k table with neighbouring cells merged until each expects >= 5 on both sides.

    Cells are merged greedily in order by their pooled counts only (fixed under no drift, so the
    asymptotic test on the merged table keeps its level), into at most ``2 * m ** 0.4`` cells for
    a smaller side of ``m`` values (Mann and Wald's number of equiprobable cells: more cells
    lose power against shifts); a short last group joins the one before it.

    Examples
    --------
    >>> merged_cells(np.array([1, 2, 3, 4, 5, 6]), np.array([6, 5, 4, 3, 2, 1])).tolist()
    [[3, 7, 11], [11, 7, 3]]
    """
    pooled = np.cumsum(ref_counts + cur_counts)
    total = int(pooled[-1])
    smaller = min(int(ref_counts.sum()), int(cur_counts.sum()))
    # pooled values per cell for an expected 5 on the smaller side (and so on both)
    cells = max(2.0, 2 * smaller**0.4)
    need = max(5 * total / max(smaller, 1), total / cells)
    ends, done = [], 0
    while True:
        end = int(np.searchsorted(pooled, done + need, side="left"))
        if end >= pooled.size - 1 or total - pooled[end] < need:
            ends.append(pooled.size - 1)
            break
        ends.append(end)
        done = int(pooled[end])
    bounds = np.asarray(ends)
    ref_cum, cur_cum = np.cumsum(ref_counts)[bounds], np.cumsum(cur_counts)[bounds]
    return np.vstack([np.diff(ref_cum, prepend=0), np.diff(cur_cum, prepend=0)])
