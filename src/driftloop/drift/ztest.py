"""Z-test for two proportions (pooled variance), for binary columns.

The proportion tested is that of the first value in sorted order (``0`` of ``0/1``, ``"false"``
of booleans); the p-value is two-sided, so the choice only sets the statistic's sign, which is
positive when that value became more frequent in the current data.

The normal approximation needs expected counts of at least 5 in every cell of the 2 x 2 table.
Below that (a rare value, a short window, unequal sizes) its false-alarm rate runs far above the
stated one (9% at a stated 5% for a 3% value with 31 vs 7 rows), so the p-value comes from an
exact test instead: Boschloo's (:func:`scipy.stats.boschloo_exact`, the most powerful of the
exact unconditional tests) while the table space is small enough to enumerate quickly, Fisher's
(:func:`scipy.stats.fisher_exact`) beyond it. Both hold their level at every size.
"""

from __future__ import annotations

import math

from driftloop.drift.samples import Sample, category_counts
from driftloop.errors import ConfigError

__all__ = ["exact_p_value", "ztest"]

_MIN_EXPECTED = 5.0
_BOSCHLOO_MAX_TABLES = 5_000  # about 0.15 s; Fisher's test beyond


def ztest(reference: Sample, current: Sample, *, column: str = "?") -> tuple[float, float]:
    """Return ``(z, p_value)`` of the two-sided two-proportion z-test.

    Examples
    --------
    >>> from driftloop.drift.samples import CategoricalSample
    >>> r = CategoricalSample.from_counts(["no", "yes"], [70, 30], n_rows=100)
    >>> c = CategoricalSample.from_counts(["no", "yes"], [50, 50], n_rows=100)
    >>> z, p = ztest(r, c)
    >>> round(z, 3), round(p, 4)
    (-2.887, 0.0039)
    """
    labels, ref_counts, cur_counts = category_counts(reference, current)
    if labels.size > 2:
        raise ConfigError(
            f"Method 'ztest' needs a binary column; column '{column}' has {labels.size} distinct "
            "values. Use 'chisquare' or 'jensenshannon' for it."
        )
    n1, n2 = reference.n_valid, current.n_valid
    if labels.size < 2:
        return 0.0, 1.0
    p1, p2 = ref_counts[0] / n1, cur_counts[0] / n2
    pooled = (ref_counts[0] + cur_counts[0]) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = float((p2 - p1) / se)
    if _small_expected(int(ref_counts[0] + cur_counts[0]), n1, n2):
        return z, exact_p_value(int(ref_counts[0]), n1, int(cur_counts[0]), n2)
    # 2 * norm.sf(|z|) = erfc(|z| / sqrt 2): the same value, without importing scipy.stats
    return z, math.erfc(abs(z) / math.sqrt(2.0))


def _small_expected(first_total: int, n1: int, n2: int) -> bool:
    total = n1 + n2
    rarer = min(first_total, total - first_total)
    return rarer * min(n1, n2) / total < _MIN_EXPECTED


def exact_p_value(first_ref: int, n1: int, first_cur: int, n2: int) -> float:
    """Two-sided exact p-value for the 2 x 2 table of both samples.

    Examples
    --------
    >>> round(exact_p_value(1, 31, 3, 7), 4) < 0.05 < round(exact_p_value(1, 31, 0, 7), 4)
    True
    """
    from scipy import stats

    table = [[first_ref, first_cur], [n1 - first_ref, n2 - first_cur]]
    if (n1 + 1) * (n2 + 1) <= _BOSCHLOO_MAX_TABLES:
        p = stats.boschloo_exact(table, alternative="two-sided").pvalue
    else:
        p = stats.fisher_exact(table, alternative="two-sided").pvalue
    return float(min(max(p, 0.0), 1.0))
