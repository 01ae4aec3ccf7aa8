"""Two-sample Kolmogorov-Smirnov test.

The statistic is the one :func:`scipy.stats.ks_2samp` returns, computed from the already sorted
samples in exact integer arithmetic, by binary searches of the smaller sample's values in the
larger one, skipping the blocks of values where the gap provably cannot peak
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

__all__ = ["TIED_MAX_DISTINCT", "ks_pvalue", "ks_statistic", "ks_test"]

TIED_MAX_DISTINCT = 5_000
_TIED_LARGE_MAX_DISTINCT = 1_000  # when both sides are large, draws cost O(distinct values)
_LARGE = 5_000

_EXACT_MAX_N = 10_000  # scipy's MAX_AUTO_N: 'auto' is exact up to here
_SERIES_MIN_N = 10_000  # from this effective size on, the corrected limit replaces kstwo.sf


def ks_statistic(reference: NumericSample, current: NumericSample) -> float:
    """Largest distance between the two empirical CDFs.

    Computed in exact integer arithmetic (``n*m`` times the CDF gap) from the sorted samples.
    ``F_small - F_large`` peaks at a value of the smaller sample and ``F_large - F_small`` just
    before one, so binary searches of the smaller sample's values in the larger one give the
    statistic. Not every value needs searching: over a block of consecutive values of the
    smaller sample both CDFs only grow, so the gap inside the block is at most that of the
    block's last CDF of one side against its first of the other. Blocks whose bound cannot beat
    a gap already found are skipped; the others are split and bounded again, then searched value
    by value (:func:`_bounded_gap`). The result is exact; typically a few percent of the values
    are searched.

    Examples
    --------
    >>> r = NumericSample.from_values(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> c = NumericSample.from_values(np.array([3.0, 4.0, 5.0, 6.0]))
    >>> ks_statistic(r, c)
    0.5
    """
    small, large = sorted((reference, current), key=lambda s: s.values.size)
    n, m = small.values.size, large.values.size
    gap = _bounded_gap(small, large) if n >= _BLOCK * _SPLIT else _searched_gap(small, large)
    return float(gap) / (n * m)


def _bounded_gap(small: NumericSample, large: NumericSample) -> int:
    """:func:`_searched_gap` by branch and bound over blocks of the smaller sample's values."""
    n = small.values.size
    size, starts, best = _BLOCK, np.arange(0, n, _BLOCK), 0
    while True:
        ends = np.minimum(starts + size, n) - 1
        at_start, at_end = _scaled_counts(small, large, starts), _scaled_counts(small, large, ends)
        best = max(best, _gap(at_start), _gap(at_end))
        # inside a block: F_small <= its value at the end, F_large >= its value at the start
        upper = np.maximum(at_end[0] - at_start[2], at_end[3] - at_start[1])
        kept = starts[upper > best]
        if kept.size * size > n // 2:  # the gap stays near its peak (no drift): search all
            return _searched_gap(small, large)
        if kept.size == 0:
            return best
        step = max(size // _SPLIT, 1)
        index = (kept[:, None] + np.arange(0, size, step)).ravel()
        index = index[index < n]
        if step == 1:  # every value of the kept blocks
            return max(best, _gap(_scaled_counts(small, large, index)))
        starts, size = index, step


_BLOCK = 256  # values of the smaller sample per block, first
_SPLIT = 16  # sub-blocks per kept block


def _scaled_counts(
    small: NumericSample, large: NumericSample, index: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.int64], ...]:
    """At the smaller sample's values ``index``: its own counts at or below and below, times
    ``m``, and the larger sample's, times ``n`` (``n``, ``m``: the sizes)."""
    x, y = small.values, large.values
    n, m = x.size, y.size
    keys = x[index]
    if small.n_unique == n:
        own_at_or_below, own_below = index + 1, index
    else:
        own_at_or_below = np.searchsorted(x, keys, "right")
        own_below = np.searchsorted(x, keys, "left")
    return (
        own_at_or_below.astype(np.int64) * m,
        own_below.astype(np.int64) * m,
        np.searchsorted(y, keys, "right").astype(np.int64) * n,
        np.searchsorted(y, keys, "left").astype(np.int64) * n,
    )


def _gap(counts: tuple[npt.NDArray[np.int64], ...]) -> int:
    """The largest of n*m*(F_x - F_y) at the values and n*m*(F_y - F_x) just before them."""
    at_or_below, below, large_at_or_below, large_below = counts
    if at_or_below.size == 0:
        return 0
    return max(int((at_or_below - large_at_or_below).max()), int((large_below - below).max()))


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
        d, p = resampling.ks_p_value(ref_counts, cur_counts)
        if p > resampling.REFINE_BELOW:
            return d, p
        # refined without a floor: scipy's continuous p-value, conservative on tied data
        return d, min(_continuous_p(reference, current, d), resampling.REFINE_BELOW)
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


def _continuous_p(reference: NumericSample, current: NumericSample, d: float) -> float:
    """scipy's p-value for statistic ``d`` as if the data had no ties (conservative with them)."""
    n1, n2 = reference.n_valid, current.n_valid
    if reference.exact and current.exact and max(n1, n2) <= _EXACT_MAX_N:
        from scipy import stats

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return float(stats.ks_2samp(reference.values, current.values).pvalue)
    return ks_pvalue(d, n1, n2)


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
