"""The drift methods, declared as data in one place.

============== ========= ================ ========================== ===========================
name           family    default threshold drifted when             applies to
============== ========= ================ ========================== ===========================
ks             p-value   0.05             p < threshold              numerical
chisquare      p-value   0.05             p < threshold              any (on category counts)
ztest          p-value   0.05             p < threshold              two distinct values
psi            distance  0.2              statistic >= threshold     any (quantile bins/categories)
wasserstein    distance  0.1              statistic >= threshold     numerical (normed by ref std)
jensenshannon  distance  0.1              statistic >= threshold     any (30 bins/categories)
============== ========= ================ ========================== ===========================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from driftloop.errors import ConfigError, UnknownMethodError

if TYPE_CHECKING:
    from driftloop.drift.samples import NumericSample, Sample

# The method modules (and scipy) are imported when a method first computes, so reading the
# method table (config validation, the command line's help) stays light.
__all__ = ["AUTOMATIC", "METHODS", "Family", "Method", "MethodOptions", "get_method"]


class Family(StrEnum):
    P_VALUE = "p_value"
    DISTANCE = "distance"


@dataclass(frozen=True, slots=True)
class MethodOptions:
    """Per-call knobs some methods take (bins); the column name is used in messages."""

    column: str = "?"
    numeric: bool = True
    psi_bins: int = 10
    js_bins: int = 30
    evidently: bool = False  # Evidently's definitions: std-normed Wasserstein, equal-width JS bins


Compute = Callable[["Sample", "Sample", MethodOptions], tuple[float, float | None]]


@dataclass(frozen=True, slots=True)
class Method:
    """A drift method: how it computes, how its threshold reads, what it applies to."""

    name: str
    family: Family
    default_threshold: float
    threshold_max: float
    numeric_only: bool
    compute: Compute

    def drifted(self, statistic: float, p_value: float | None, threshold: float) -> bool:
        if self.family is Family.P_VALUE:
            return p_value is not None and p_value < threshold
        return statistic >= threshold

    def check_threshold(self, threshold: float, where: str = "") -> float:
        """Raise ConfigError unless ``threshold`` is in this method's range."""
        low_open = "(0, 1)" if self.family is Family.P_VALUE else f"(0, {self.threshold_max:g}]"
        ok = 0 < threshold < 1 if self.family is Family.P_VALUE else 0 < threshold
        ok = ok and threshold <= self.threshold_max
        if not ok:
            place = f" of {where}" if where else ""
            raise ConfigError(
                f"The 'threshold'{place} for method '{self.name}' must be a float in {low_open}. "
                f"Got {threshold!r} instead."
            )
        return threshold


def _numeric(sample: Sample, method: str, column: str) -> NumericSample:
    from driftloop.drift.samples import NumericSample

    if not isinstance(sample, NumericSample):
        raise ConfigError(
            f"Method '{method}' needs a numerical column; column '{column}' holds labels. "
            "Use 'chisquare', 'jensenshannon' or 'psi' for it, or cast it to numbers."
        )
    return sample


def _ks(r: Sample, c: Sample, o: MethodOptions) -> tuple[float, float | None]:
    from driftloop.drift import ks

    return ks.ks_test(_numeric(r, "ks", o.column), _numeric(c, "ks", o.column))


def _wasserstein(r: Sample, c: Sample, o: MethodOptions) -> tuple[float, float | None]:
    from driftloop.drift import distances

    ref, cur = _numeric(r, "wasserstein", o.column), _numeric(c, "wasserstein", o.column)
    return distances.wasserstein_normed(ref, cur, robust=not o.evidently), None


def _psi(r: Sample, c: Sample, o: MethodOptions) -> tuple[float, float | None]:
    from driftloop.drift import psi

    return psi.psi(r, c, numeric=o.numeric, n_bins=o.psi_bins), None


def _jensenshannon(r: Sample, c: Sample, o: MethodOptions) -> tuple[float, float | None]:
    from driftloop.drift import distances

    bins = "equal_width" if o.evidently else "quantile"
    return distances.jensenshannon(r, c, numeric=o.numeric, n_bins=o.js_bins, bins=bins), None


def _chisquare(r: Sample, c: Sample, o: MethodOptions) -> tuple[float, float | None]:
    from driftloop.drift import chisquare

    return chisquare.chisquare_test(r, c)


def _ztest(r: Sample, c: Sample, o: MethodOptions) -> tuple[float, float | None]:
    from driftloop.drift import ztest

    return ztest.ztest(r, c, column=o.column)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("ks", Family.P_VALUE, 0.05, 1.0, True, _ks),
        Method("chisquare", Family.P_VALUE, 0.05, 1.0, False, _chisquare),
        Method("ztest", Family.P_VALUE, 0.05, 1.0, False, _ztest),
        Method("psi", Family.DISTANCE, 0.2, float("inf"), False, _psi),
        Method("wasserstein", Family.DISTANCE, 0.1, float("inf"), True, _wasserstein),
        Method("jensenshannon", Family.DISTANCE, 0.1, 1.0, False, _jensenshannon),
    )
}
AUTOMATIC = ("auto", "evidently")  # choice tables: driftloop's size-aware one, Evidently's
METHOD_NAMES = (*AUTOMATIC, *sorted(METHODS))


def get_method(name: str, where: str = "") -> Method:
    """Look a method up by name; unknown names are answered with the valid ones.

    Examples
    --------
    >>> get_method("ks").family
    <Family.P_VALUE: 'p_value'>
    >>> get_method("kss")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    driftloop.errors.UnknownMethodError: Unknown drift method 'kss'. Valid methods: auto, ...
    """
    try:
        return METHODS[name]
    except KeyError:
        place = f" for {where}" if where else ""
        raise UnknownMethodError(
            f"Unknown drift method '{name}'{place}. Valid methods: {', '.join(METHOD_NAMES)}."
        ) from None
