"""Chi-square test of homogeneity on the 2 x k contingency table of both samples.

This is the two-sample test (:func:`scipy.stats.chi2_contingency`, with Yates' correction when
the table is 2 x 2, as scipy does). Comparing current counts against reference proportions taken
as exact — the one-sample ``chisquare`` some tools use — ignores the reference's own sampling
noise and raises false alarms far above the stated rate.

When the table is sparse (Cochran's rule fails: an expected count below 1, or more than 20% of
them below 5 — many categories, a short window), the chi-square distribution is a poor guide and
the p-value is a conditional Monte Carlo one (:func:`driftloop.drift.resampling.chisquare_p_value`).
"""

from __future__ import annotations

import numpy as np

from driftloop.drift.samples import Sample, category_counts

__all__ = ["chisquare_test", "sparse"]


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
    if sparse(result.expected_freq):
        from driftloop.drift import resampling

        return float(result.statistic), resampling.chisquare_p_value(ref_counts, cur_counts)
    return float(result.statistic), float(result.pvalue)


def sparse(expected: np.ndarray) -> bool:
    """Cochran's rule fails: an expected count below 1, or over 20% of them below 5."""
    return bool(expected.min() < 1 or np.mean(expected < 5) > 0.2)
