"""A drift method's record: everything the engine asks of a method, declared as data.

The built-in methods and the registry are in :mod:`driftloop.drift.methods`.

What it declares, and who asks:

- ``family``, ``default_threshold``, ``threshold_max`` and ``p_range`` (the values its p-value can
  take: a test that caps its p-value, like the k-sample Anderson-Darling's ``[0.001, 0.25]``,
  says so): threshold validation, ``drifted`` and calibration;
- ``numeric_only`` and ``max_unique``: which columns it applies to (``detect``, the messages that
  name the methods that would fit);
- ``on_counts``: it compares the counts of distinct values, which a profile keeps exactly;
- ``sketch_error``: how far its statistic read from a sketched side may be from the raw data's
  (:mod:`driftloop.drift.sketch_error`); None, and not ``on_counts``: unknown, said in the
  column's warning;
- ``test``: for a distance, the test that judges whether its change is significant on a column
  (the column's natural test, :func:`column_test`);
- ``calibrate_as``: the method calibration pins in its place (a z-test picked on a window with
  two values would break on one with three);
- ``bins_option``: the detection setting that gives its bin count (``psi_bins``, ``js_bins``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from driftloop.errors import ConfigError

if TYPE_CHECKING:
    from driftloop.drift.samples import NumericSample, Sample

__all__ = [
    "Compute",
    "Family",
    "Method",
    "MethodOptions",
    "NaturalTest",
    "SketchError",
    "column_test",
]


class Family(StrEnum):
    P_VALUE = "p_value"
    DISTANCE = "distance"


@dataclass(frozen=True, slots=True)
class MethodOptions:
    """Per-call knobs: the column (named in messages), whether its values are read as numbers,
    the method's bin count (None: its own default) and Evidently's definitions."""

    column: str = "?"
    numeric: bool = True
    bins: int | None = None
    evidently: bool = False  # Evidently's definitions: std-normed Wasserstein, equal-width JS bins


Compute = Callable[["Sample", "Sample", MethodOptions], tuple[float, float | None]]
SketchError = Callable[[float, "NumericSample", "NumericSample", MethodOptions], float | None]
NaturalTest = Callable[[bool, int], str]


def column_test(numeric: bool, n_unique: int) -> str:
    """The test a column's values call for: KS on numbers, else the z-test on two values and
    chi-square on more.

    >>> column_test(True, 40), column_test(False, 2), column_test(False, 5)
    ('ks', 'ztest', 'chisquare')
    """
    if numeric:
        return "ks"
    return "ztest" if n_unique <= 2 else "chisquare"


@dataclass(frozen=True, slots=True)
class Method:
    """A drift method: how it computes, how its threshold reads, what it applies to, how it reads
    a sketch, what judges its significance and what calibration pins (module docstring)."""

    name: str
    family: Family
    default_threshold: float
    threshold_max: float
    numeric_only: bool
    compute: Compute
    max_unique: int | None = None
    p_range: tuple[float, float] = (0.0, 1.0)
    on_counts: bool = False
    sketch_error: SketchError | None = None
    test: NaturalTest | None = None
    calibrate_as: str | None = None
    bins_option: str | None = None

    def drifted(self, statistic: float, p_value: float | None, threshold: float) -> bool:
        if self.family is Family.P_VALUE:
            return p_value is not None and p_value < threshold
        return statistic >= threshold

    def check_threshold(self, threshold: float, where: str = "") -> float:
        """Raise ConfigError unless ``threshold`` is in this method's range (for a p-value
        method, strictly inside the values its p-value can take: else it never or always
        flags)."""
        if self.family is Family.P_VALUE:
            low, high = self.p_range
            allowed, ok = f"({low:g}, {high:g})", low < threshold < high
        else:
            allowed = f"(0, {self.threshold_max:g}]"
            ok = 0 < threshold <= self.threshold_max
        if not ok:
            place = f" of {where}" if where else ""
            raise ConfigError(
                f"The 'threshold'{place} for method '{self.name}' must be a float in {allowed}. "
                f"Got {threshold!r} instead."
            )
        return threshold

    def p_threshold(self, share: float) -> float:
        """A p-value threshold of ``share``, moved inside the values the p-value can take."""
        low, high = self.p_range
        return min(max(share, math.nextafter(low, math.inf)), math.nextafter(high, -math.inf))

    def applies(self, numerical: bool, n_unique: int) -> bool:
        """Whether the method applies to a column (numerical kind or not, distinct values)."""
        if self.numeric_only and not numerical:
            return False
        return self.max_unique is None or n_unique <= self.max_unique

    def statistic_error(
        self, statistic: float, reference: Sample, current: Sample, options: MethodOptions
    ) -> float | None:
        """How far ``statistic`` may be from the raw data's when a side was read from a sketch:
        0 for exact sides and count methods, None when the method does not say."""
        from driftloop.drift.samples import NumericSample

        if not (isinstance(reference, NumericSample) and isinstance(current, NumericSample)):
            return 0.0
        if (reference.error, current.error) == (0.0, 0.0) or self.on_counts:
            return 0.0
        if self.sketch_error is None:
            return None
        return self.sketch_error(statistic, reference, current, options)
