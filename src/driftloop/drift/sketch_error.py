"""How far a statistic read from a sketched side may be from the one the raw data would give.

A sketched side (:class:`~driftloop.drift.sketched.SketchedSample`) knows its CDF only to within
``cdf_error``: at any point its grid's share of values below differs from the data's by at most
that much (the sketch's rank error, 99% confidence, plus the grid's step). What that does to each
statistic, reported per column as ``statistic_error``:

- ``ks``: the sum of the sides' CDF errors (the statistic is a largest CDF gap).
- ``wasserstein``: the distance is the area between the two CDFs over the reference's winsorised
  range, divided by its spread (IQR / 1.349). The CDF errors move the area by at most their sum
  times that range; the clip points lie within the reference's rank error of where they were
  read, and moving one moves the area by the distance moved times the CDFs' gap there; the
  quartiles, hence the spread, lie within the rank error too. The exact distance lies between
  the smallest area over the largest spread and the largest area over the smallest spread.
  Skewed and heavy tails make it wide: the sketch cannot tell where the 0.1% clip points are.
- ``psi`` and ``jensenshannon``: by interval arithmetic. Each bin edge sits at a reference
  quantile known to within the reference's CDF error, so it lies between two grid values; each
  side's share of each bin then lies in an interval (the CDF error at both edges, the edges'
  uncertainty, ties counted on either side). Both statistics are sums of per-bin terms that are
  jointly convex in the two shares and zero where they are equal, so each term's largest value
  is at a corner of its box and its smallest is 0 or the nearest corner; the bound is the largest
  distance from the reported value to the sum of the smallest or of the largest terms. It holds
  whenever the sketch keeps its rank error; near-empty bins make it wide, as they make these
  statistics unstable.
- ``chisquare``, ``ztest`` (methods on counts, which a profile keeps exactly) and columns whose
  values are all kept: 0.
- a method registered with :func:`driftloop.register_method`: what its record's
  ``sketch_error`` says; without one, None (unknown), and the column says so in its warning.

Each method's record (:mod:`driftloop.drift.methods`) names the bound it reads here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from driftloop.drift.distances import (
    IQR_PER_SD,
    TAIL,
    clip_points,
    numeric_edges,
    robust_spread,
)
from driftloop.drift.psi import psi_edges
from driftloop.drift.samples import NumericSample

__all__ = ["js_error", "psi_error", "wasserstein_error"]

FloatArray = npt.NDArray[np.float64]
_PSI_EPS = 1e-4
_JS_EMPTY = 1e-4


def psi_error(
    statistic: float, reference: NumericSample, current: NumericSample, n_bins: int
) -> float:
    """How far PSI on ``n_bins`` reference-quantile bins may be from the raw data's.

    Examples
    --------
    >>> from driftloop.drift.sketched import SketchedSample
    >>> grid = np.linspace(0.0, 1.0, 4096)
    >>> s = SketchedSample(grid, 4096, 0, 0, count=4096, mean=0.5, m2=4096 / 12, cdf_error=0.003)
    >>> round(psi_error(0.0, s, s, 10), 4)  # edges known to 0.3% of rank: wide in the tails
    0.0573
    """
    edges = psi_edges(reference.values, n_bins)
    return _binned_error(_psi_term, _PSI_EPS, statistic, reference, current, edges, fixed=False)


def js_error(
    statistic: float,
    reference: NumericSample,
    current: NumericSample,
    n_bins: int,
    *,
    robust: bool = True,
) -> float | None:
    """How far the Jensen-Shannon distance on ``n_bins`` bins (quantile ones, or equal-width
    ones unless ``robust``) may be from the raw data's; None when equal-width bins cannot be
    made (the method then counts values)."""
    ref, cur = reference.values, current.values
    edges = numeric_edges(ref, cur, n_bins, "quantile" if robust else "equal_width")
    if edges is None:
        return None
    return _binned_error(_js_term, None, statistic, reference, current, edges, fixed=not robust)


def _binned_error(
    term: Callable[[FloatArray, FloatArray], FloatArray],
    psi_eps: float | None,
    statistic: float,
    reference: NumericSample,
    current: NumericSample,
    edges: FloatArray,
    fixed: bool,
) -> float:
    """The bound for a sum of per-bin terms: PSI's (``psi_eps`` added to each share) or the
    squared Jensen-Shannon distance's (``psi_eps`` None; the statistic is its square root)."""
    ref, cur = reference.values, current.values
    ranges = _edge_ranges(ref, edges, reference.error, fixed)
    r_low, r_high = _share_box(ref, ranges, reference.error)
    c_low, c_high = _share_box(cur, ranges, current.error)
    if psi_eps is not None:
        boxes = (r_low + psi_eps, r_high + psi_eps, c_low + psi_eps, c_high + psi_eps)
        low, high = _term_range(term, *boxes)
        return max(high - statistic, statistic - low, 0.0)
    low, high = _term_range(term, *_js_boxes(r_low, r_high, c_low, c_high))
    return max(float(np.sqrt(high)) - statistic, statistic - float(np.sqrt(low)), 0.0)


def wasserstein_error(
    reference: NumericSample, current: NumericSample, statistic: float, *, robust: bool = True
) -> float | None:
    """How far normed Wasserstein may be from the raw data's (``robust`` False: Evidently's
    standard-deviation norm).

    The distance is an area between the two CDFs over the reference's winsorised range,
    divided by its spread. Read from grids, each CDF is off by at most its side's error, the clip
    points lie within the reference's rank error of where they were read (moving one moves the
    area by the width moved times the CDF gap there) and so do the quartiles of the spread: the
    exact distance lies between the smallest area over the largest spread and the largest area
    over the smallest spread. None when the spread could be 0 (the exact one is then another).

    Examples
    --------
    >>> from driftloop.drift.sketched import SketchedSample
    >>> grid = np.linspace(0.0, 1.0, 4096)
    >>> s = SketchedSample(grid, 4096, 0, 0, count=4096, mean=0.5, m2=4096 / 12, cdf_error=0.003)
    >>> round(wasserstein_error(s, s, 0.0), 4)  # ~ 0.006 * range 0.998 / spread 0.37
    0.0165
    """
    a, b = reference.values, current.values
    scale = max(abs(a[0]), abs(a[-1]), abs(b[0]), abs(b[-1]), 1.0)
    a, b = a / scale, b / scale  # lengths in units of scale: values near 1e308 cannot overflow
    e_ref, e_both = reference.error, reference.error + current.error
    if not robust:
        low, high = min(a[0], b[0]), max(a[-1], b[-1])
        spread = max(reference.std(scale), 0.001 / scale)
        shown = max(float(np.std(a)), 0.001 / scale)  # the spread the statistic was divided by
        return _between(statistic, shown, e_both * (high - low), spread, spread)
    low, high = clip_points(a)
    spread = robust_spread(np.clip(a, low, high))
    lows, highs = _at_ranks(a, TAIL, e_ref), _at_ranks(a, 1 - TAIL, e_ref)
    moved = _gap(a, b, *lows, e_both) * (lows[1] - lows[0])
    moved += _gap(a, b, *highs, e_both) * (highs[1] - highs[0])
    area_error = e_both * (high - low) + moved  # the read range; the rest is in `moved`
    q1, q3 = _at_ranks(a, 0.25, e_ref), _at_ranks(a, 0.75, e_ref)
    smallest, largest = (q3[0] - q1[1]) / IQR_PER_SD, (q3[1] - q1[0]) / IQR_PER_SD
    if not smallest > 0:
        return None
    return _between(statistic, spread, area_error, smallest, largest)


def _between(
    statistic: float, spread: float, area_error: float, smallest: float, largest: float
) -> float:
    """The largest distance from ``statistic`` (an area over ``spread``) to the exact value,
    an area within ``area_error`` of it over a spread within ``[smallest, largest]``."""
    area = statistic * spread
    low, high = max(area - area_error, 0.0) / largest, (area + area_error) / smallest
    return float(max(high - statistic, statistic - low, 0.0))


def _at_ranks(grid: FloatArray, rank: float, error: float) -> tuple[float, float]:
    """Where the raw data's ``rank`` quantile may lie: the grid's values ``error`` (and one
    grid step) below and above it."""
    n = grid.size
    below = int(np.clip(np.floor((rank - error) * n) - 1, 0, n - 1))
    above = int(np.clip(np.ceil((rank + error) * n) + 1, 0, n - 1))
    return float(grid[below]), float(grid[above])


def _gap(a: FloatArray, b: FloatArray, start: float, end: float, error: float) -> float:
    """The largest gap between the raw CDFs over ``[start, end]``: the grids' largest gap there
    (at their steps and the ends) plus both CDF errors."""
    points = np.concatenate(
        ([start, end], a[(a >= start) & (a <= end)], b[(b >= start) & (b <= end)])
    )
    gaps = [
        np.abs(np.searchsorted(a, points, side) - np.searchsorted(b, points, side))
        for side in ("left", "right")
    ]
    return float(min(np.max(gaps) / a.size + error, 1.0))


def _edge_ranges(ref: FloatArray, edges: FloatArray, error: float, fixed: bool) -> FloatArray:
    """Where each interior edge of the raw data's bins may lie: ``[low, high]`` rows.

    An edge read at a reference quantile from the grid sits, on the raw data, at the same
    quantile, whose rank is known to within the reference's CDF ``error``: it lies between the
    grid values that far below and above the edge's rank (ties counted on either side).
    Equal-width edges are fixed by the exact extremes.
    """
    inner = edges[1:-1]
    if fixed:
        return np.stack([inner, inner], axis=1)
    n, shift = ref.size, error * ref.size
    below = np.searchsorted(ref, inner, side="left") - np.ceil(shift) - 1
    above = np.searchsorted(ref, inner, side="right") + np.ceil(shift)
    low = ref[np.clip(below, 0, n - 1).astype(np.int64)]
    high = ref[np.clip(above, 0, n - 1).astype(np.int64)]
    return np.stack([low, high], axis=1)


def _share_box(
    grid: FloatArray, ranges: FloatArray, cdf_error: float
) -> tuple[FloatArray, FloatArray]:
    """The interval each bin's share of one side's raw values lies in, its edges in ``ranges``."""
    n = grid.size
    cdf_low = np.searchsorted(grid, ranges[:, 0], side="left") / n - cdf_error
    cdf_high = np.searchsorted(grid, ranges[:, 1], side="right") / n + cdf_error
    cdf_low = np.concatenate(([0.0], np.maximum(cdf_low, 0.0), [1.0]))
    cdf_high = np.concatenate(([0.0], np.minimum(cdf_high, 1.0), [1.0]))
    low = np.maximum(cdf_low[1:] - cdf_high[:-1], 0.0)
    high = np.minimum(cdf_high[1:] - cdf_low[:-1], 1.0)
    return low, high


def _psi_term(r: FloatArray, c: FloatArray) -> FloatArray:
    return (c - r) * np.log(c / r)


def _js_term(r: FloatArray, c: FloatArray) -> FloatArray:
    m = (r + c) / 2
    return (r * np.log(r / m) + c * np.log(c / m)) / 2


def _js_boxes(
    r_low: FloatArray, r_high: FloatArray, c_low: FloatArray, c_high: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Share boxes as the Jensen-Shannon distance reads them: an empty bin counts as 0.0001 (a
    raw share may still be any small positive value) and scipy rescales each side to sum to 1
    (dividing by at most 1 plus the added 0.0001s)."""
    slack = 1.0 + _JS_EMPTY * r_low.size
    return (
        np.maximum(r_low, 1e-12) / slack,
        np.maximum(r_high, _JS_EMPTY),
        np.maximum(c_low, 1e-12) / slack,
        np.maximum(c_high, _JS_EMPTY),
    )


def _term_range(
    term: Callable[[FloatArray, FloatArray], FloatArray],
    r_low: FloatArray,
    r_high: FloatArray,
    c_low: FloatArray,
    c_high: FloatArray,
) -> tuple[float, float]:
    """Smallest and largest sums of per-bin ``term(r, c)`` over the boxes.

    Each term is jointly convex and 0 where ``r == c``: its maximum is at a corner; its minimum
    is 0 when the intervals overlap, else at the pair of nearest ends.
    """
    corners = [term(r, c) for r in (r_low, r_high) for c in (c_low, c_high)]
    high = np.max(corners, axis=0)
    low = np.where(
        c_high < r_low,
        term(r_low, c_high),
        np.where(c_low > r_high, term(r_high, c_low), 0.0),
    )
    return float(np.sum(low)), float(np.sum(high))
