"""A numeric column known from a summary (a quantile sketch and exact moments), not its values.

A reference profile (:mod:`driftloop.profiles`) keeps a large column as a mergeable quantile
sketch, its exact count, mean, sum of squared deviations, minimum and maximum, and, when it has
few distinct values, their exact counts. :class:`SketchedSample` gives the engine that summary in
the shape it reads: ``values`` is a grid of ``GRID`` quantiles at mid-ranks ``(i + 0.5) / GRID``
(each grid value stands for an equal share of the rows; the first and last are the exact
minimum and maximum), while ``n_valid``, the spread and, when known, the distinct values and
their counts are exact.

What each method reads from it, and the error that follows:

- ``ks``: the statistic from the grids, within ``error`` (the sketch's rank error plus the grid's
  step ``1 / GRID``, summed over the sketched sides) of the exact one; the p-value is the
  asymptotic one (:func:`driftloop.drift.ks.ks_pvalue`) at the true sizes, read at
  ``max(D - error, 0)``, so the sketch's error never adds false alarms (it can miss a shift
  within ``error`` of the threshold's statistic).
- ``wasserstein``: the quantile functions' gap on the grid; ``psi``, ``jensenshannon``: bin
  shares of the grid.
- ``chisquare``, ``ztest`` and the tie-aware KS p-value: exact, from the exact counts of distinct
  values (a profile keeps them while a column has at most a few hundred distinct values).
- each column reports ``error_bound`` (the summed CDF error of the sketched sides, 0 when both
  sides are exact) and ``statistic_error``, how far its statistic may be from the raw data's
  (:mod:`driftloop.drift.sketch_error`).
- degradation: null and inf rates, minimum, maximum and variance are exact; the spread test is an
  F-test of the exact variances when a side is sketched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from driftloop.drift.samples import FloatArray, IntArray, NumericSample

__all__ = ["GRID", "SketchedSample"]

GRID = 4096


@dataclass(frozen=True, slots=True)
class SketchedSample(NumericSample):
    """A numeric sample known from its summary (see the module docstring).

    Examples
    --------
    >>> grid = np.linspace(0.0, 1.0, 5)
    >>> s = SketchedSample(grid, 1000, 0, 0, count=1000, mean=0.5, m2=1000 / 12, cdf_error=0.01)
    >>> s.n_valid, s.exact, round(s.std(), 4)
    (1000, False, 0.2887)
    """

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    cdf_error: float = 0.0
    distinct: tuple[FloatArray, IntArray] | None = field(default=None, compare=False)

    @classmethod
    def from_sorted(cls, sample: NumericSample) -> SketchedSample:
        """Exact values (at least ``GRID``) reduced to their ``GRID`` quantiles at mid-ranks, the
        first and last the exact minimum and maximum, with exact count and moments. The grid's
        CDF is within ``0.5 / GRID`` of the values' (``cdf_error``: ``1 / GRID``).

        Examples
        --------
        >>> exact = NumericSample.from_values(np.arange(10_000.0))
        >>> s = SketchedSample.from_sorted(exact)
        >>> s.values.size, s.values[[0, 1, -1]].tolist(), s.mean, s.error == 1 / GRID
        (4096, [0.0, 3.0, 9999.0], 4999.5, True)
        """
        v = sample.values
        grid = v[((np.arange(GRID) + 0.5) * (v.size / GRID)).astype(np.int64)]
        grid[0], grid[-1] = v[0], v[-1]
        import polars as pl

        values = pl.Series(v)  # no copy; one pass each, no temporary array (numpy's takes 14x)
        mean = float(values.mean())  # type: ignore[arg-type]
        m2 = float(values.var(ddof=0)) * v.size  # type: ignore[arg-type]
        return cls(
            grid,
            sample.n_rows,
            sample.n_null,
            sample.n_inf,
            count=v.size,
            mean=mean,
            m2=m2,
            cdf_error=1.0 / GRID,
        )

    def __post_init__(self) -> None:
        if self.distinct is not None:
            object.__setattr__(self, "n_unique", int(self.distinct[0].size))
            return
        v = self.values
        unique = 0 if v.size == 0 else int(np.count_nonzero(v[1:] != v[:-1])) + 1
        object.__setattr__(self, "n_unique", unique)

    @property
    def n_valid(self) -> int:
        return self.count

    @property
    def exact(self) -> bool:
        return False

    @property
    def error(self) -> float:
        return self.cdf_error

    @property
    def counted(self) -> bool:
        return self.distinct is not None

    def counts(self) -> tuple[FloatArray, IntArray]:
        """Exact distinct values and counts when known; else the grid's (each value one share)."""
        if self.distinct is not None:
            return self.distinct
        return NumericSample.counts(self)

    def std(self, scale: float | None = None) -> float:
        if self.count == 0:
            return float("nan")
        spread = float(np.sqrt(max(self.m2, 0.0) / self.count))
        if scale is None:
            return spread
        return spread / scale if scale else 0.0

    def variance(self) -> float:
        return self.m2 / self.count if self.count else float("nan")
