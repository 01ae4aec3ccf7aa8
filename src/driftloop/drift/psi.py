"""Population Stability Index.

Bands (the usual reading): below 0.1 no significant shift, 0.1-0.2 moderate, above 0.2 significant.
Numeric columns use quantile bins taken from the reference (``n_bins`` of them, outer edges open);
categorical columns use one bin per category. Empty bins get ``eps`` so the log stays finite.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from driftloop.drift.binning import binned_counts
from driftloop.drift.samples import NumericSample, Sample, category_counts

__all__ = ["psi", "psi_edges", "psi_from_counts"]


def psi_from_counts(
    reference_counts: npt.NDArray[np.int64],
    current_counts: npt.NDArray[np.int64],
    n_reference: int,
    n_current: int,
    eps: float = 1e-4,
) -> float:
    """PSI of two aligned count vectors: ``sum((c - r) * ln(c / r))`` over proportions + eps."""
    ref_pct = reference_counts / n_reference + eps
    cur_pct = current_counts / n_current + eps
    return float(np.sum((cur_pct - ref_pct) * np.log(cur_pct / ref_pct)))


def psi_edges(reference: npt.NDArray[np.float64], n_bins: int) -> npt.NDArray[np.float64]:
    """Bin edges at the sorted reference's quantiles, the outer bins open-ended."""
    edges = np.percentile(reference, np.linspace(0, 100, n_bins + 1))
    edges[0], edges[-1] = -np.inf, np.inf
    return edges


def psi(
    reference: Sample, current: Sample, *, numeric: bool, n_bins: int = 10, eps: float = 1e-4
) -> float:
    """Population Stability Index of current against reference.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> r = NumericSample.from_values(rng.normal(size=10_000))
    >>> same = NumericSample.from_values(rng.normal(size=10_000))
    >>> shifted = NumericSample.from_values(rng.normal(0.5, size=10_000))
    >>> psi(r, same, numeric=True) < 0.1 < 0.2 < psi(r, shifted, numeric=True)
    True
    """
    if numeric and isinstance(reference, NumericSample) and isinstance(current, NumericSample):
        edges = psi_edges(reference.values, n_bins)
        ref_counts = binned_counts(reference.values, edges)
        cur_counts = binned_counts(current.values, edges)
        # shares of the values (of a sketched sample's quantile grid: the same as of its rows)
        sizes = reference.values.size, current.values.size
    else:
        _, ref_counts, cur_counts = category_counts(reference, current)
        sizes = reference.n_valid, current.n_valid
    return psi_from_counts(ref_counts, cur_counts, sizes[0], sizes[1], eps)
