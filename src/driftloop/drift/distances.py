"""Distances between distributions: normed Wasserstein and Jensen-Shannon.

A distance has no p-value: it says how far apart the samples are, not how sure we are that they
differ. Both follow the definitions migrating teams know from Evidently:

- ``wasserstein``: :func:`scipy.stats.wasserstein_distance` divided by the reference's standard
  deviation (floored at 0.001), so 0.1 reads as "a tenth of a standard deviation of mass moved";
- ``jensenshannon``: :func:`scipy.spatial.distance.jensenshannon` (natural log) of the two
  proportion vectors, over the union of categories, or over ``n_bins`` equal-width bins spanning
  both samples for numeric columns; empty bins count as 0.0001.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from driftloop.drift.binning import binned_counts, equal_width_edges
from driftloop.drift.samples import NumericSample, Sample, category_counts

__all__ = ["jensenshannon", "wasserstein", "wasserstein_normed"]

_STD_FLOOR = 0.001
_EMPTY_BIN = 0.0001
_MAX_GRID = 2**62


@lru_cache(maxsize=2)
def _quantile_grid(
    n1: int, n2: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Where the two empirical quantile functions step, for samples of n1 and n2 values.

    Returns, for every interval between consecutive steps, the index into each sorted sample and
    the interval's width. It depends only on the sizes, so columns of equal length share it.
    """
    steps = np.union1d(
        np.arange(1, n1 + 1, dtype=np.int64) * n2, np.arange(1, n2 + 1, dtype=np.int64) * n1
    )
    index_1 = (steps + n2 - 1) // n2 - 1
    index_2 = (steps + n1 - 1) // n1 - 1
    widths = np.diff(steps, prepend=0) / (n1 * n2)
    return index_1, index_2, widths


def wasserstein(reference: NumericSample, current: NumericSample) -> float:
    """First Wasserstein distance between two sorted samples.

    Computed as the integral of the gap between the quantile functions, which needs no merge
    of the samples. Equal to :func:`scipy.stats.wasserstein_distance`.

    Examples
    --------
    >>> from scipy import stats
    >>> rng = np.random.default_rng(2)
    >>> u, v = rng.normal(size=300), rng.normal(1, size=200)
    >>> w = wasserstein(NumericSample.from_values(u), NumericSample.from_values(v))
    >>> bool(np.isclose(w, stats.wasserstein_distance(u, v)))
    True
    """
    a, b = reference.values, current.values
    scale = max(reference.scale, current.scale)
    if scale > 1e150:  # differences of values near 1e308 overflow: compute in units of scale
        a, b = a / scale, b / scale
        return scale * _wasserstein_sorted(a, b)
    return _wasserstein_sorted(a, b)


def _wasserstein_sorted(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    if a.size == b.size:
        return float(np.mean(np.abs(a - b)))
    if a.size * b.size >= _MAX_GRID:  # pragma: no cover - beyond int64; never met in practice
        from scipy import stats

        return float(stats.wasserstein_distance(a, b))
    index_a, index_b, widths = _quantile_grid(a.size, b.size)
    return float(np.dot(widths, np.abs(a[index_a] - b[index_b])))


def wasserstein_normed(reference: NumericSample, current: NumericSample) -> float:
    """Wasserstein distance in units of the reference's standard deviation."""
    scale = max(reference.scale, current.scale)
    if scale > 1e150:  # both in units of the common scale: it cancels, nothing overflows
        a, b = reference.values / scale, current.values / scale
        return _wasserstein_sorted(a, b) / max(float(np.std(a)), _STD_FLOOR / scale)
    norm = max(float(np.std(reference.values)), _STD_FLOOR)
    return wasserstein(reference, current) / norm


def jensenshannon(reference: Sample, current: Sample, *, numeric: bool, n_bins: int = 30) -> float:
    """Jensen-Shannon distance (natural log) between the two samples' proportions.

    Examples
    --------
    >>> from driftloop.drift.samples import CategoricalSample
    >>> r = CategoricalSample.from_counts(["a", "b"], [50, 50], n_rows=100)
    >>> jensenshannon(r, r, numeric=False)
    0.0
    """
    ref_pct, cur_pct = proportions(reference, current, numeric=numeric, n_bins=n_bins)
    np.place(ref_pct, ref_pct == 0, _EMPTY_BIN)
    np.place(cur_pct, cur_pct == 0, _EMPTY_BIN)
    return _js_distance(ref_pct, cur_pct)


def _js_distance(p: npt.NDArray[np.float64], q: npt.NDArray[np.float64]) -> float:
    """:func:`scipy.spatial.distance.jensenshannon` (natural log) of two strictly positive
    vectors, written out: importing scipy.spatial costs ~0.3 s, more than a small check.

    Examples
    --------
    >>> from scipy.spatial import distance
    >>> p, q = np.array([0.2, 0.3, 0.5]), np.array([0.4, 0.4, 0.2])
    >>> bool(np.isclose(_js_distance(p, q), distance.jensenshannon(p, q)))
    True
    """
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2.0
    divergence = float(np.sum(p * np.log(p / m)) + np.sum(q * np.log(q / m)))
    return float(np.sqrt(max(divergence, 0.0) / 2.0))


def proportions(
    reference: Sample, current: Sample, *, numeric: bool, n_bins: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Aligned proportion vectors: equal-width bins over both samples, or the category union."""
    edges = None
    if numeric and isinstance(reference, NumericSample) and isinstance(current, NumericSample):
        low = min(reference.values[0], current.values[0])
        high = max(reference.values[-1], current.values[-1])
        try:
            edges = equal_width_edges(low, high, n_bins)
        except ValueError:  # a range too narrow for n finite bins: the values are few anyway
            edges = None
    if edges is not None:
        ref_counts = binned_counts(reference.values, edges)  # type: ignore[union-attr]
        cur_counts = binned_counts(current.values, edges)  # type: ignore[union-attr]
    else:
        _, ref_counts, cur_counts = category_counts(reference, current)
    return ref_counts / reference.n_valid, cur_counts / current.n_valid
