"""One side of one column, reduced once to what every method needs.

A numeric column becomes its finite values sorted once; a categorical column becomes its category
counts. Every statistic (tests, distances, degradation checks, histograms) reads these summaries,
so a column is sorted or counted exactly once per side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["CategoricalSample", "NumericSample", "Sample", "category_counts", "label_text"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class NumericSample:
    """Finite values of a numeric column, sorted ascending, with what was dropped.

    Examples
    --------
    >>> s = NumericSample.from_values(np.array([3.0, np.nan, 1.0, np.inf, 2.0]))
    >>> s.values.tolist(), s.n_rows, s.n_null, s.n_inf, s.n_unique
    ([1.0, 2.0, 3.0], 5, 1, 1, 3)
    """

    values: FloatArray
    n_rows: int
    n_null: int
    n_inf: int
    n_unique: int = field(init=False)

    def __post_init__(self) -> None:
        v = self.values
        unique = 0 if v.size == 0 else int(np.count_nonzero(v[1:] != v[:-1])) + 1
        object.__setattr__(self, "n_unique", unique)

    @classmethod
    def from_values(cls, raw: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> NumericSample:
        """Drop NaN and inf (counting them) and sort the rest."""
        raw = np.asarray(raw, dtype=np.float64)
        finite = np.isfinite(raw)
        n_finite = int(np.count_nonzero(finite))
        n_nan = int(np.count_nonzero(np.isnan(raw))) if n_finite < raw.size else 0
        values = raw[finite] if n_finite < raw.size else raw
        return cls(np.sort(values), raw.size, n_nan, raw.size - n_finite - n_nan)

    @property
    def n_valid(self) -> int:
        return int(self.values.size)

    @property
    def exact(self) -> bool:
        """Whether ``values`` are the column's values (a sketched sample's are a quantile grid)."""
        return True

    @property
    def counted(self) -> bool:
        """Whether :meth:`counts` gives the column's exact distinct values and counts."""
        return True

    @property
    def error(self) -> float:
        """The largest error of this sample's empirical CDF (0: the values are exact)."""
        return 0.0

    def counts(self) -> tuple[FloatArray, IntArray]:
        """Distinct values and their counts (cheap: the values are sorted)."""
        v = self.values
        if v.size == 0:
            return v, np.zeros(0, dtype=np.int64)
        starts = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
        counts = np.diff(np.append(starts, v.size)).astype(np.int64)
        return v[starts], counts

    @property
    def scale(self) -> float:
        """The largest magnitude, for computing spread without overflow (values near 1e308)."""
        v = self.values
        return max(abs(float(v[0])), abs(float(v[-1])), 0.0) if v.size else 0.0

    def std(self, scale: float | None = None) -> float:
        """Standard deviation in units of ``scale`` (default: this sample's own :attr:`scale`,
        result in the data's units): dividing first keeps ``1e308``-sized values finite.

        Examples
        --------
        >>> s = NumericSample.from_values(np.array([-1e308, 1e308]))
        >>> s.std() == 1e308, bool(np.isfinite(s.std()))
        (True, True)
        """
        v = self.values
        if v.size == 0:
            return float("nan")
        own = scale is None
        scale = self.scale if own else scale
        if not scale:
            return 0.0
        spread = _std_of_scaled(v, scale)
        return spread * scale if own else spread

    def variance(self) -> float:
        return float(np.var(self.values)) if self.values.size else float("nan")


@dataclass(frozen=True, slots=True)
class CategoricalSample:
    """Category labels (as strings, sorted) and how often each occurs.

    Examples
    --------
    >>> s = CategoricalSample.from_counts(["b", "a", "b"], [2, 1, 1], n_rows=5)
    >>> s.categories.tolist(), s.counts.tolist(), s.n_null, s.n_unique
    (['a', 'b'], [1, 3], 1, 2)
    """

    categories: npt.NDArray[np.str_]
    counts: IntArray
    n_rows: int
    n_null: int
    n_inf: int = 0
    n_unique: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_unique", int(self.categories.size))

    @classmethod
    def from_counts(
        cls, labels: list[str] | npt.NDArray[np.str_], counts: list[int] | IntArray, *, n_rows: int
    ) -> CategoricalSample:
        """Build from (possibly repeated, unsorted) labels and counts; nulls are the remainder."""
        labels_arr = np.asarray(labels, dtype=str)
        counts_arr = np.asarray(counts, dtype=np.int64)
        cats, inverse = np.unique(labels_arr, return_inverse=True)
        summed = np.bincount(inverse.ravel(), weights=counts_arr, minlength=cats.size)
        total = int(counts_arr.sum())
        return cls(cats, summed.astype(np.int64), n_rows, n_rows - total)

    @property
    def n_valid(self) -> int:
        return int(self.counts.sum())

    def counts_by_label(self) -> tuple[npt.NDArray[np.str_], IntArray]:
        return self.categories, self.counts


Sample = NumericSample | CategoricalSample


def _std_of_scaled(values: FloatArray, scale: float) -> float:
    """``np.std(values / scale)``, bit for bit, in one buffer instead of two."""
    scaled = values / scale
    mean = np.add.reduce(scaled, keepdims=True) / scaled.size  # as np.std sums and divides
    np.subtract(scaled, mean, out=scaled)
    np.multiply(scaled, scaled, out=scaled)
    return float(np.sqrt(np.add.reduce(scaled) / scaled.size))


def category_counts(
    reference: Sample, current: Sample
) -> tuple[npt.NDArray[np.generic], IntArray, IntArray]:
    """Align both sides on the union of their categories (or distinct values).

    Returns the sorted union of labels and the reference and current counts over it.

    Examples
    --------
    >>> r = CategoricalSample.from_counts(["a", "b"], [3, 1], n_rows=4)
    >>> c = CategoricalSample.from_counts(["b", "c"], [2, 2], n_rows=4)
    >>> labels, rc, cc = category_counts(r, c)
    >>> labels.tolist(), rc.tolist(), cc.tolist()
    (['a', 'b', 'c'], [3, 1, 0], [0, 2, 2])
    """
    ref_labels, ref_counts = _labelled_counts(reference)
    cur_labels, cur_counts = _labelled_counts(current)
    if ref_labels.dtype.kind != cur_labels.dtype.kind:
        ref_labels, cur_labels = ref_labels.astype(str), cur_labels.astype(str)
    labels = np.union1d(ref_labels, cur_labels)
    ref_aligned = np.zeros(labels.size, dtype=np.int64)
    cur_aligned = np.zeros(labels.size, dtype=np.int64)
    ref_aligned[np.searchsorted(labels, ref_labels)] = ref_counts
    cur_aligned[np.searchsorted(labels, cur_labels)] = cur_counts
    return labels, ref_aligned, cur_aligned


def _labelled_counts(sample: Sample) -> tuple[npt.NDArray[np.generic], IntArray]:
    if isinstance(sample, NumericSample):
        return sample.counts()
    return sample.counts_by_label()


def label_text(value: object) -> str:
    """A category label as people write it: whole numbers without a trailing ``.0``.

    Examples
    --------
    >>> label_text(2.0), label_text(2.5), label_text("a")
    ('2', '2.5', 'a')
    """
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)
