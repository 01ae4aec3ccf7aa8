"""Two-sample Kolmogorov-Smirnov test.

The statistic is the one :func:`scipy.stats.ks_2samp` returns, and so is the p-value: exact for
samples of at most 10,000 values (scipy is called directly there), Smirnov's asymptotic
distribution above (``kstwo.sf(D, round(n*m/(n+m)))``, as scipy does), where the statistic is
computed here from the already sorted samples in one linear merge.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from driftloop.drift.samples import NumericSample

__all__ = ["ks_statistic", "ks_test"]

_EXACT_MAX_N = 10_000  # scipy's MAX_AUTO_N: 'auto' is exact up to here


def ks_statistic(reference: NumericSample, current: NumericSample) -> float:
    """Largest distance between the two empirical CDFs.

    Examples
    --------
    >>> r = NumericSample.from_values(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> c = NumericSample.from_values(np.array([3.0, 4.0, 5.0, 6.0]))
    >>> ks_statistic(r, c)
    0.5
    """
    a, b = reference.values, current.values
    merged = np.concatenate([a, b])
    # Both halves are sorted: a stable argsort is a single linear merge (timsort runs).
    order = np.argsort(merged, kind="stable")
    from_a = order < a.size
    cdf_a = np.cumsum(from_a) / a.size
    cdf_b = np.cumsum(~from_a) / b.size
    values = merged[order]
    # Evaluate the CDFs only after the last of each run of tied values.
    run_end = np.append(values[1:] != values[:-1], True)
    gap = np.abs(cdf_a[run_end] - cdf_b[run_end])
    return float(gap.max())


def ks_test(reference: NumericSample, current: NumericSample) -> tuple[float, float]:
    """Return ``(statistic, p_value)`` of the two-sided two-sample KS test.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> r = NumericSample.from_values(rng.normal(size=500))
    >>> c = NumericSample.from_values(rng.normal(size=400))
    >>> d, p = ks_test(r, c)
    >>> expected = stats.ks_2samp(r.values, c.values)
    >>> bool(d == expected.statistic and p == expected.pvalue)
    True
    """
    n1, n2 = reference.n_valid, current.n_valid
    if max(n1, n2) <= _EXACT_MAX_N:
        with warnings.catch_warnings():
            # scipy warns when the exact computation falls back to the asymptotic one
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.ks_2samp(reference.values, current.values)
        return float(result.statistic), float(result.pvalue)
    d = ks_statistic(reference, current)
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    p = float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))
    return d, p
