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
__all__ = [
    "AUTOMATIC",
    "METHODS",
    "Family",
    "Method",
    "MethodOptions",
    "get_method",
    "method_names",
    "register_method",
]


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


def register_method(
    name: str,
    compute: Compute,
    *,
    family: Family | str = Family.P_VALUE,
    default_threshold: float = 0.05,
    threshold_max: float | None = None,
    numeric_only: bool = True,
) -> Method:
    """Add a drift method of your own; it is then valid everywhere a method name is.

    ``compute(reference, current, options)`` receives each side as a
    :class:`~driftloop.drift.samples.NumericSample` (finite values, sorted, in ``.values``) or,
    unless ``numeric_only``, a :class:`~driftloop.drift.samples.CategoricalSample`
    (``.categories``, ``.counts``), and returns ``(statistic, p_value)`` — ``p_value`` ``None``
    for a distance. A p-value method drifts when ``p < threshold``, a distance when
    ``statistic >= threshold``. Register before :func:`driftloop.detect` or config loading
    names it (e.g. in the module your pipeline imports).

    Examples
    --------
    >>> from scipy import stats
    >>> def cramer(ref, cur, options):  # two-sample Cramér-von Mises
    ...     result = stats.cramervonmises_2samp(ref.values, cur.values)
    ...     return float(result.statistic), float(result.pvalue)
    >>> register_method("cramer", cramer)
    Method(name='cramer', family=<Family.P_VALUE: 'p_value'>, ...)
    >>> import numpy as np, polars as pl, driftloop
    >>> rng = np.random.default_rng(0)
    >>> ref = pl.DataFrame({"x": rng.normal(size=300)})
    >>> cur = pl.DataFrame({"x": rng.normal(1, size=300)})
    >>> driftloop.detect(ref, cur, config={"method": "cramer"}).column("x").drifted
    True
    >>> _ = METHODS.pop("cramer")  # this example's own clean-up
    """
    family = Family(family)
    if not name.isidentifier() or name in AUTOMATIC:
        raise ConfigError(
            f"A drift method's name must be a word (letters, digits, '_') other than "
            f"{' or '.join(AUTOMATIC)}. Got {name!r}."
        )
    if name in METHODS and METHODS[name].compute is not compute:
        raise ConfigError(
            f"Drift method '{name}' is already registered. Pick another name for yours."
        )
    ceiling = (
        threshold_max
        if threshold_max is not None
        else (1.0 if family is Family.P_VALUE else float("inf"))
    )
    method = Method(name, family, default_threshold, ceiling, numeric_only, compute)
    method.check_threshold(default_threshold, f"register_method('{name}')")
    METHODS[name] = method
    return method


def method_names() -> tuple[str, ...]:
    """Every valid value of ``method``: the choice tables, then every method (built-in or
    registered)."""
    return (*AUTOMATIC, *sorted(METHODS))


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
            f"Unknown drift method '{name}'{place}. Valid methods: {', '.join(method_names())}."
        ) from None
