"""Two-sample Kolmogorov-Smirnov test.

The statistic is the one :func:`scipy.stats.ks_2samp` returns, computed from the already sorted
samples in exact integer arithmetic: by one linear merge of the two sorted runs when their sizes
are close, else by binary searches of the smaller sample's values in the larger one
(:func:`ks_statistic`).

With repeated values (counts, ratings, rounded readings) scipy's p-values, which assume
continuous data, are conservative: a 5% test flags about 1% of no-drift windows of Poisson(3)
counts. When the data have ties and at most ``TIED_MAX_DISTINCT`` distinct values, the p-value is
a conditional Monte Carlo one instead (:func:`driftloop.drift.resampling.ks_p_value`), which holds
its level at every size. Otherwise the p-value is scipy's, with one switch for speed:

- at most 10,000 values on each side: :func:`scipy.stats.ks_2samp` itself (exact, as scipy's
  ``method='auto'``);
- above that, scipy uses Smirnov's distribution ``kstwo.sf(D, N)`` with ``N = round(n*m/(n+m))``.
  For ``N < 10,000`` driftloop calls it too. From ``N = 10,000`` on, ``kstwo.sf`` can take
  0.1-0.7 s per call, so driftloop uses the Kolmogorov limit with Vrbik's small-sample
  correction, ``kolmogorov(x + 1/(6 sqrt N) + (x - 1)/(4 N))`` with ``x = sqrt(N) D``, which
  agrees with ``kstwo.sf`` within 2.2e-6 (absolute) there (``tests/drift/test_methods.py``).
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt

from driftloop.drift.samples import NumericSample

__all__ = ["MERGE_MAX_RATIO", "TIED_MAX_DISTINCT", "ks_pvalue", "ks_statistic", "ks_test"]

TIED_MAX_DISTINCT = 5_000
MERGE_MAX_RATIO = 4  # merge when the sizes are within this factor, else search the smaller
_TIED_LARGE_MAX_DISTINCT = 1_000  # when both sides are large, draws cost O(distinct values)
_LARGE = 5_000

_EXACT_MAX_N = 10_000  # scipy's MAX_AUTO_N: 'auto' is exact up to here
_SERIES_MIN_N = 10_000  # from this effective size on, the corrected limit replaces kstwo.sf


def ks_statistic(reference: NumericSample, current: NumericSample) -> float:
    """Largest distance between the two empirical CDFs.

    Computed in exact integer arithmetic (``n*m`` times the CDF gap) from the sorted samples,
    one of two ways with the same result:

    - sizes within a factor of ``MERGE_MAX_RATIO``: one linear merge of the two sorted runs (a
      stable argsort finds the runs and merges them); the running sum of ``+m`` per value of
      one side and ``-n`` per value of the other, read at the last of each group of equal
      values, is ``n*m*(F_x - F_y)`` at every value of both sides;
    - one side much smaller: its values are searched in the larger one. ``F_small - F_large``
      peaks at a value of the smaller sample, ``F_large - F_small`` just before one; one binary
      search per value gives both (the "just before" count is the "at or below" one minus
      the larger side's values equal to it).

    Examples
    --------
    >>> r = NumericSample.from_values(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> c = NumericSample.from_values(np.array([3.0, 4.0, 5.0, 6.0]))
    >>> ks_statistic(r, c)
    0.5
    """
    small, large = sorted((reference, current), key=lambda s: s.values.size)
    n, m = small.values.size, large.values.size
    if n * MERGE_MAX_RATIO >= m:
        gap = _merged_gap(small.values, large.values)
    else:
        gap = _searched_gap(small, large)
    return float(gap) / (n * m)


def _merged_gap(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> int:
    """max |n*m*(F_x - F_y)| over every value, by merging the two sorted runs."""
    n, m = x.size, y.size
    both = np.concatenate((x, y))
    order = np.argsort(both, kind="stable")  # two sorted runs: one linear merge
    merged = both[order]
    # +m for each value of x, -n for each of y: the running sum is n*m*(F_x - F_y)
    gaps = np.where(order < n, np.int64(m), np.int64(-n))
    del order, both
    np.cumsum(gaps, out=gaps)
    last = np.empty(merged.size, dtype=bool)  # the last of each group of equal values
    np.not_equal(merged[1:], merged[:-1], out=last[:-1])
    last[-1] = True
    if not last.all():  # ties: inside a group the running sum is not a CDF gap
        np.multiply(gaps, last, out=gaps)
    return max(int(gaps.max()), -int(gaps.min()), 0)


def _searched_gap(small: NumericSample, large: NumericSample) -> int:
    """max |n*m*(F_small - F_large)|, searching the smaller sample's values in the larger."""
    x, y = small.values, large.values
    n, m = x.size, y.size
    at_or_below, below = _own_counts(small)
    large_at_or_below = np.searchsorted(y, x, "right")
    large_below = _below(y, x, large_at_or_below, distinct=large.n_unique == m)
    # n*m*(F_x - F_y) at each x value, and n*m*(F_y - F_x) just before it
    before = _scaled_gap(large_below, n, below, m)
    above = _scaled_gap(at_or_below, m, large_at_or_below, n)
    return max(above, before, 0)


def _below(
    y: npt.NDArray[np.float64],
    x: npt.NDArray[np.float64],
    at_or_below: npt.NDArray[np.intp],
    *,
    distinct: bool,
) -> npt.NDArray[np.intp]:
    """How many of ``y`` are below each value of ``x``, from how many are at or below it."""
    equal: npt.NDArray[np.bool_] = y[np.maximum(at_or_below - 1, 0)] == x
    equal &= at_or_below > 0  # ``y[0]`` stood in for the values with nothing at or below
    if distinct:  # at most one value of y equals each x
        return np.subtract(at_or_below, equal, dtype=np.intp)
    below = at_or_below.copy()
    hits = np.flatnonzero(equal)
    below[hits] = np.searchsorted(y, x[hits], "left")
    return below


def _scaled_gap(
    count_a: npt.NDArray[np.intp], scale_a: int, count_b: npt.NDArray[np.intp], scale_b: int
) -> int:
    """max(count_a * scale_a - count_b * scale_b), with the arrays reused in place."""
    count_a = count_a.astype(np.int64, copy=False)
    count_b = count_b.astype(np.int64, copy=False)
    np.multiply(count_a, scale_a, out=count_a)
    np.multiply(count_b, scale_b, out=count_b)
    np.subtract(count_a, count_b, out=count_a)
    return int(count_a.max())


def _own_counts(sample: NumericSample) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """For each value: how many of the sample's values are ≤ it, and how many are < it."""
    v = sample.values
    if sample.n_unique == v.size:  # no ties: the i-th value has i + 1 at or below, i below
        return np.arange(1, v.size + 1, dtype=np.intp), np.arange(v.size, dtype=np.intp)
    starts = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
    ends = np.append(starts[1:], v.size)
    sizes = ends - starts  # each group of equal values: all of it is at or below each member
    return np.repeat(ends, sizes), np.repeat(starts, sizes)


def ks_pvalue(d: float, n1: int, n2: int) -> float:
    """Two-sided p-value of statistic ``d`` for samples of ``n1`` and ``n2`` values, for sizes
    above scipy's exact range (see the module docstring).

    Examples
    --------
    >>> from scipy import stats
    >>> p = ks_pvalue(0.01, 50_000, 50_000)
    >>> round(p, 4), bool(abs(p - stats.kstwo.sf(0.01, 25_000)) < 2.2e-6)
    (0.0134, True)
    """
    from scipy import special, stats  # deferred: importing scipy.stats costs ~0.5 s

    big, small = max(n1, n2), min(n1, n2)
    en = float(np.round(big * small / (big + small)))
    if en < _SERIES_MIN_N:
        return float(np.clip(stats.kstwo.sf(d, en), 0.0, 1.0))
    x = np.sqrt(en) * d
    corrected = x + 1.0 / (6.0 * np.sqrt(en)) + (x - 1.0) / (4.0 * en)
    return float(np.clip(special.kolmogorov(corrected), 0.0, 1.0))


def ks_test(reference: NumericSample, current: NumericSample) -> tuple[float, float]:
    """Return ``(statistic, p_value)`` of the two-sided two-sample KS test.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> r = NumericSample.from_values(rng.normal(size=500))
    >>> c = NumericSample.from_values(rng.normal(size=400))
    >>> d, p = ks_test(r, c)
    >>> from scipy import stats
    >>> expected = stats.ks_2samp(r.values, c.values)
    >>> bool(d == expected.statistic and p == expected.pvalue)
    True
    """
    n1, n2 = reference.n_valid, current.n_valid
    counted = reference.counted and current.counted
    if counted and _tied(reference, current):
        from driftloop.drift import resampling
        from driftloop.drift.samples import category_counts

        _, ref_counts, cur_counts = category_counts(reference, current)
        return resampling.ks_p_value(ref_counts, cur_counts)
    if not (reference.exact and current.exact):
        return _sketched_test(reference, current, counted=counted)
    if max(n1, n2) <= _EXACT_MAX_N:
        from scipy import stats

        with warnings.catch_warnings():
            # scipy warns when the exact computation falls back to the asymptotic one
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.ks_2samp(reference.values, current.values)
        return float(result.statistic), float(result.pvalue)
    d = ks_statistic(reference, current)
    return d, ks_pvalue(d, n1, n2)


def _sketched_test(
    reference: NumericSample, current: NumericSample, *, counted: bool
) -> tuple[float, float]:
    """A side known from a sketch: the statistic from exact counts when both sides have them
    (exact), else from the quantile grids (within ``error``, the sketched sides' summed bound).
    The p-value is the asymptotic one at the true sizes, read at ``max(D - error, 0)``: the
    sketch's error can cost power near the threshold, never add false alarms."""
    error = 0.0
    if counted:
        from driftloop.drift import resampling
        from driftloop.drift.samples import category_counts

        _, ref_counts, cur_counts = category_counts(reference, current)
        d = float(resampling.ks_statistics(ref_counts, cur_counts))
    else:
        d = ks_statistic(reference, current)
        error = reference.error + current.error
    return d, ks_pvalue(max(d - error, 0.0), reference.n_valid, current.n_valid)


def _tied(reference: NumericSample, current: NumericSample) -> bool:
    """Whether the samples repeat values and are few enough distinct ones to resample."""
    most = max(reference.n_unique, current.n_unique)
    limit = TIED_MAX_DISTINCT
    if min(reference.n_valid, current.n_valid) > _LARGE:
        limit = _TIED_LARGE_MAX_DISTINCT
    if most > limit:
        return False
    if reference.n_unique < reference.n_valid or current.n_unique < current.n_valid:
        return True
    shared = np.intersect1d(reference.values, current.values, assume_unique=True)
    return shared.size > 0
