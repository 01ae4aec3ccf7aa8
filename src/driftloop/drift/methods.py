"""The drift methods: the built-in records and the registry.

============== ========= ========= ======================== ================================ =======
name           family    threshold drifted when             applies to                       sketch
============== ========= ========= ======================== ================================ =======
ks             p-value   0.05      p < threshold            numerical                        ± bound
chisquare      p-value   0.05      p < threshold            any (on category counts)         exact
ztest          p-value   0.05      p < threshold            two distinct values (counts)     exact
psi            distance  0.2       statistic >= threshold   any (quantile bins/categories)   ± bound
wasserstein    distance  0.1       statistic >= threshold   numerical (normed by ref spread) ± bound
jensenshannon  distance  0.1       statistic >= threshold   any (30 bins/categories)         ± bound
============== ========= ========= ======================== ================================ =======

Each is one :class:`~driftloop.drift.method.Method` record, which declares all the engine asks of
it (see :mod:`driftloop.drift.method`); nothing else in driftloop compares a method's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftloop.drift.method import (
    Compute,
    Family,
    Method,
    MethodOptions,
    NaturalTest,
    SketchError,
    column_test,
)
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
    "check_applies",
    "column_test",
    "fitting",
    "get_method",
    "method_names",
    "register_method",
]


def check_applies(method: Method, column: str, kind: str, numerical: bool, n_unique: int) -> None:
    """Raise ConfigError, naming the methods that would fit, unless ``method`` applies."""
    if method.applies(numerical, n_unique):
        return
    why = (
        f"needs a numerical column; column '{column}' is {kind}"
        if method.numeric_only and not numerical
        else f"needs at most {method.max_unique} distinct values; column '{column}' has {n_unique}"
    )
    raise ConfigError(f"Method '{method.name}' {why}. Use {fitting(numerical, n_unique)} for it.")


def fitting(numerical: bool, n_unique: int) -> str:
    """The methods that apply to such a column, quoted: ``'chisquare', 'psi' or 'ztest'``."""
    names = [f"'{n}'" for n, m in sorted(METHODS.items()) if m.applies(numerical, n_unique)]
    return " or ".join(names) if len(names) < 2 else f"{', '.join(names[:-1])} or {names[-1]}"


def _numeric(sample: Sample, method: str, column: str) -> NumericSample:
    from driftloop.drift.samples import NumericSample

    if not isinstance(sample, NumericSample):
        raise ConfigError(
            f"Method '{method}' needs a numerical column; column '{column}' holds labels. "
            f"Use {fitting(False, sample.n_unique)} for it, or cast it to numbers."
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

    return psi.psi(r, c, numeric=o.numeric, n_bins=o.bins or 10), None


def _jensenshannon(r: Sample, c: Sample, o: MethodOptions) -> tuple[float, float | None]:
    from driftloop.drift import distances

    bins = "equal_width" if o.evidently else "quantile"
    return distances.jensenshannon(r, c, numeric=o.numeric, n_bins=o.bins or 30, bins=bins), None


def _chisquare(r: Sample, c: Sample, o: MethodOptions) -> tuple[float, float | None]:
    from driftloop.drift import chisquare

    return chisquare.chisquare_test(r, c)


def _ztest(r: Sample, c: Sample, o: MethodOptions) -> tuple[float, float | None]:
    from driftloop.drift import ztest

    return ztest.ztest(r, c, column=o.column)


def _ks_error(s: float, r: NumericSample, c: NumericSample, o: MethodOptions) -> float | None:
    return r.error + c.error  # the statistic is a largest CDF gap


def _wasserstein_error(
    s: float, r: NumericSample, c: NumericSample, o: MethodOptions
) -> float | None:
    from driftloop.drift import sketch_error

    return sketch_error.wasserstein_error(r, c, s, robust=not o.evidently)


def _psi_error(s: float, r: NumericSample, c: NumericSample, o: MethodOptions) -> float | None:
    from driftloop.drift import sketch_error

    return sketch_error.psi_error(s, r, c, o.bins or 10)


def _js_error(s: float, r: NumericSample, c: NumericSample, o: MethodOptions) -> float | None:
    from driftloop.drift import sketch_error

    return sketch_error.js_error(s, r, c, o.bins or 30, robust=not o.evidently)


_INF = float("inf")
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("ks", Family.P_VALUE, 0.05, 1.0, True, _ks, sketch_error=_ks_error),
        Method("chisquare", Family.P_VALUE, 0.05, 1.0, False, _chisquare, on_counts=True),
        Method(
            "ztest", Family.P_VALUE, 0.05, 1.0, False, _ztest,
            max_unique=2, on_counts=True, calibrate_as="chisquare",
        ),
        Method(
            "psi", Family.DISTANCE, 0.2, _INF, False, _psi,
            sketch_error=_psi_error, test=column_test, bins_option="psi_bins",
        ),
        Method(
            "wasserstein", Family.DISTANCE, 0.1, _INF, True, _wasserstein,
            sketch_error=_wasserstein_error, test=column_test,
        ),
        Method(
            "jensenshannon", Family.DISTANCE, 0.1, 1.0, False, _jensenshannon,
            sketch_error=_js_error, test=column_test, bins_option="js_bins",
        ),
    )
}  # fmt: skip
AUTOMATIC = ("auto", "evidently")  # choice tables: driftloop's size-aware one, Evidently's


def register_method(
    name: str,
    compute: Compute,
    *,
    family: Family | str = Family.P_VALUE,
    default_threshold: float = 0.05,
    threshold_max: float | None = None,
    numeric_only: bool = True,
    max_unique: int | None = None,
    p_range: tuple[float, float] = (0.0, 1.0),
    on_counts: bool = False,
    sketch_error: SketchError | None = None,
    test: NaturalTest | None = None,
    calibrate_as: str | None = None,
) -> Method:
    """Add a drift method of your own; it is then valid everywhere a method name is.

    ``compute(reference, current, options)`` receives each side as a
    :class:`~driftloop.drift.samples.NumericSample` (finite values, sorted, in ``.values``) or,
    unless ``numeric_only``, a :class:`~driftloop.drift.samples.CategoricalSample`
    (``.categories``, ``.counts``), and returns ``(statistic, p_value)`` — ``p_value`` ``None``
    for a distance. A p-value method drifts when ``p < threshold``, a distance when
    ``statistic >= threshold``. The other keywords declare what the engine asks of the method
    (:class:`~driftloop.drift.method.Method`): ``max_unique`` distinct values it applies to,
    ``p_range`` its p-value can take (thresholds must lie inside it), ``on_counts`` (it compares
    exact counts of distinct values), ``sketch_error(statistic, reference, current, options)``
    (how far a statistic read from a sketched side may be off; unknown without it), ``test``
    (a distance's significance test, by default :func:`column_test`) and ``calibrate_as`` (the
    method calibration writes in its place). Register before :func:`driftloop.detect` or config
    loading names it (e.g. in the module your pipeline imports).

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
    _check_name(name, compute)
    ceiling = (
        threshold_max
        if threshold_max is not None
        else (p_range[1] if family is Family.P_VALUE else float("inf"))
    )
    if family is Family.DISTANCE and test is None:
        test = column_test
    method = Method(
        name, family, default_threshold, ceiling, numeric_only, compute,
        max_unique=max_unique, p_range=p_range, on_counts=on_counts,
        sketch_error=sketch_error, test=test, calibrate_as=calibrate_as,
    )  # fmt: skip
    method.check_threshold(default_threshold, f"register_method('{name}')")
    METHODS[name] = method
    return method


def _check_name(name: str, compute: Compute) -> None:
    if not name.isidentifier() or name in AUTOMATIC:
        raise ConfigError(
            f"A drift method's name must be a word (letters, digits, '_') other than "
            f"{' or '.join(AUTOMATIC)}. Got {name!r}."
        )
    if name in METHODS and METHODS[name].compute is not compute:
        raise ConfigError(
            f"Drift method '{name}' is already registered. Pick another name for yours."
        )


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
