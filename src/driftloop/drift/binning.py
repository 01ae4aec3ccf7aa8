"""Counting sorted values into bins with :func:`numpy.histogram` semantics, without re-scanning."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["binned_counts", "equal_width_edges"]


def binned_counts(
    sorted_values: npt.NDArray[np.float64], edges: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Count values per bin exactly as ``np.histogram(values, bins=edges)`` would.

    Bins are half-open ``[e_k, e_k+1)`` except the last, which is closed; values outside the edges
    are not counted. Only ``len(edges)`` binary searches are made, since the values are sorted.

    Examples
    --------
    >>> v = np.array([0.0, 1.0, 1.0, 2.0, 3.0])
    >>> e = np.array([0.0, 1.0, 2.0, 3.0])
    >>> binned_counts(v, e).tolist() == np.histogram(v, bins=e)[0].tolist()
    True
    """
    below = np.searchsorted(sorted_values, edges, side="left")
    below[-1] = np.searchsorted(sorted_values, edges[-1], side="right")
    return np.diff(below).astype(np.int64)


def equal_width_edges(low: float, high: float, n_bins: int) -> npt.NDArray[np.float64]:
    """The edges ``np.histogram_bin_edges`` would choose for data spanning ``[low, high]``."""
    return np.histogram_bin_edges(np.array([low, high], dtype=np.float64), bins=n_bins)
