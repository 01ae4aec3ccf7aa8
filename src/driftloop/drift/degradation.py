"""Feature degradation: a feature that is broken, not merely shifted.

An upstream job that starts writing nulls, a column stuck at its default value, a join that
drops a category: the model still answers, and its answers are garbage. Each check compares the
current window against what the reference makes likely *for a window of that size, given a
reference of its size*: a check fires only when the window is both past a practical floor (the
share columns below) and improbable under no drift (its tail probability is below
``degradation.alpha``, default 0.005 per check). So a 7-row window is not flagged for holding one
null where the reference had 2%, nor one value beyond a 31-row reference's range.

============================ ==============================================================
kind                         raised when (defaults in :class:`DegradationSettings`)
============================ ==============================================================
missing_feature              a reference column is absent from the current data
dtype_change                 the column's dtype family changed (e.g. numbers became text)
null_rate                    current null share > 5% and > 3x the reference's, and that many
                             nulls improbable (beta-binomial tail given the reference's rate)
non_finite                   the same for infinite values
constant                     a single value, though the reference makes that < 0.1% likely
variance_collapse            current variance < 10% of the reference's, and the one-sided
                             Brown-Forsythe test of equal spread rejects at alpha (only when
                             the reference has > 10 distinct values: fewer, and the constant
                             and cardinality checks apply)
cardinality_collapse         distinct values < 30% of those a sample of this size would show
                             (only when the reference has > 10 distinct values)
new_categories               > 5% of current rows carry categories unseen in the reference, and
                             that many improbable (beta-binomial tail around the Good-Turing
                             chance of an unseen category, singletons / reference size)
out_of_range                 > 10% of current values outside the reference [min, max], and that
                             many improbable (the exact no-drift distribution of the count of
                             window values beyond the extremes of n exchangeable values)
============================ ==============================================================
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from driftloop.drift.columns import ColumnKind
from driftloop.drift.results import DegradationAlert
from driftloop.drift.samples import NumericSample, Sample, category_counts, label_text
from driftloop.drift.settings import DegradationSettings

__all__ = ["check_column", "dtype_change", "missing_feature", "outside_tail", "share_tail"]


def missing_feature(name: str) -> DegradationAlert:
    return DegradationAlert(
        name,
        "missing_feature",
        None,
        None,
        f"Feature '{name}' is missing from the current data but present in the reference. "
        "Check the upstream pipeline that produces it.",
    )


def dtype_change(name: str, reference: str, current: str) -> DegradationAlert:
    return DegradationAlert(
        name,
        "dtype_change",
        current,
        reference,
        f"Feature '{name}' changed dtype from {reference} to {current}, so it was not tested. "
        "Cast it back upstream, or override its kind if the change is intended.",
    )


def check_column(
    name: str, kind: ColumnKind, reference: Sample, current: Sample, s: DegradationSettings
) -> list[DegradationAlert]:
    """Every degradation alert for one column present on both sides.

    Examples
    --------
    >>> ref = NumericSample.from_values(np.arange(100.0))
    >>> cur = NumericSample.from_values(np.array([5.0] * 50 + [np.nan] * 50))
    >>> [a.kind for a in check_column("x", ColumnKind.NUMERICAL, ref, cur, DegradationSettings())]
    ['null_rate', 'constant']
    """
    if not s.enabled:
        return []
    alerts = _missing_values(name, reference, current, s)
    if current.n_valid == 0 or reference.n_valid == 0:
        return alerts
    if constant := _constant(name, reference, current, s):
        return [*alerts, constant]
    if kind is ColumnKind.NUMERICAL and isinstance(reference, NumericSample):
        assert isinstance(current, NumericSample)  # same dtype family on both sides
        alerts += _variance(name, reference, current, s) + _range(name, reference, current, s)
    else:
        alerts += _new_categories(name, reference, current, s)
    return alerts + _cardinality(name, reference, current, s)


def _missing_values(
    name: str, ref: Sample, cur: Sample, s: DegradationSettings
) -> list[DegradationAlert]:
    alerts = []
    for kind, ref_n, cur_n, what in (
        ("null_rate", ref.n_null, cur.n_null, "Null"),
        ("non_finite", ref.n_inf, cur.n_inf, "Infinite-value"),
    ):
        ref_rate, cur_rate = ref_n / ref.n_rows, cur_n / cur.n_rows
        if cur_rate <= s.null_rate or cur_rate <= s.null_rate_ratio * ref_rate:
            continue
        if share_tail(cur_n, cur.n_rows, ref_n, ref.n_rows) < s.check_alpha:
            alerts.append(
                DegradationAlert(
                    name,
                    kind,
                    cur_rate,
                    ref_rate,
                    f"{what} rate of '{name}' jumped from {ref_rate:.1%} to {cur_rate:.1%}. "
                    f"Check the upstream source of '{name}'.",
                )
            )
    return alerts


def share_tail(count: int, n: int, base_count: float, base_n: int) -> float:
    """P(at least ``count`` of ``n`` window rows) when the share is only known from ``base_count``
    of ``base_n`` reference rows: the beta-binomial predictive tail (Jeffreys prior).

    Examples
    --------
    >>> round(share_tail(1, 7, 2, 100), 3)  # one null in 7 rows, the reference had 2%
    0.157
    >>> share_tail(4, 7, 2, 100) < 0.001
    True
    """
    from scipy import stats  # deferred: importing scipy.stats costs ~0.5 s

    a, b = base_count + 0.5, base_n - base_count + 0.5
    return float(stats.betabinom.sf(count - 1, n, a, b))


def outside_tail(count: int, n_window: int, n_reference: int) -> float:
    """P(at least ``count`` of ``n_window`` values fall outside the range of ``n_reference``
    values) when all are exchangeable (no drift, continuous data; ties only lower it).

    The count K has P(K = k) = (k + 1) C(N - k - 2, n - 2) / C(N, n), N = n + m.

    Examples
    --------
    >>> round(outside_tail(1, 7, 31), 3)  # one of 7 beyond a 31-row reference's extremes
    0.339
    >>> outside_tail(7, 7, 31) < 1e-6
    True
    """
    n, m = n_reference, n_window
    if count <= 0 or n < 2:
        return 1.0
    k = np.arange(count, m + 1, dtype=np.float64)
    log_p = np.log(k + 1) + _log_comb(n + m - k - 2, n - 2) - _log_comb(np.float64(n + m), n)
    return float(min(1.0, np.exp(log_p).sum()))


def _log_comb(a: npt.NDArray[np.float64] | np.float64, b: int) -> npt.NDArray[np.float64]:
    from scipy.special import gammaln

    return np.asarray(gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1), dtype=np.float64)


def _counted(sample: Sample) -> bool:
    """Whether the sample's distinct values are known (a sketched column's may not be)."""
    return not isinstance(sample, NumericSample) or sample.counted


def _frequencies(sample: Sample) -> np.ndarray:
    counts = sample.counts()[1] if isinstance(sample, NumericSample) else sample.counts
    return np.asarray(counts, dtype=np.int64)


def _constant(
    name: str, ref: Sample, cur: Sample, s: DegradationSettings
) -> DegradationAlert | None:
    if cur.n_unique != 1 or ref.n_unique < 2 or cur.n_valid < 2:
        return None
    frequencies = _frequencies(ref)
    p = frequencies / frequencies.sum()
    chance = float(np.sum(p ** float(cur.n_valid)))
    if chance >= s.constant_probability:
        return None
    value = label_text(cur.values[0] if isinstance(cur, NumericSample) else cur.categories[0])
    return DegradationAlert(
        name,
        "constant",
        1.0,
        float(ref.n_unique),
        f"Feature '{name}' is constant ({value!r} in all {cur.n_valid} current rows) but had "
        f"{ref.n_unique} distinct values in the reference. It may be stuck at a default.",
    )


def _variance(
    name: str, ref: NumericSample, cur: NumericSample, s: DegradationSettings
) -> list[DegradationAlert]:
    scale = max(ref.scale, cur.scale)  # spreads in units of the largest value: no overflow
    ref_std, cur_std = ref.std(scale), cur.std(scale)
    if not ref_std > 0 or cur.n_valid < 2:
        return []
    ratio = (cur_std / ref_std) ** 2
    if not np.isfinite(ratio):  # a profile's moments of values near 1e308 overflow: no verdict
        return []
    if ratio >= s.variance_ratio or ref.n_unique <= s.cardinality_min_unique:
        return []
    if _spread_p_value(ref, cur) >= s.check_alpha:
        return []
    ref_var, cur_var = ref.variance(), cur.variance()
    return [
        DegradationAlert(
            name,
            "variance_collapse",
            cur_var,
            ref_var,
            f"Variance of '{name}' collapsed to {ratio:.1%} of the reference's "
            f"({cur_var:.4g} vs {ref_var:.4g}). The feature may be nearly constant.",
        )
    ]


def _spread_p_value(ref: NumericSample, cur: NumericSample) -> float:
    """One-sided p-value of the Brown-Forsythe test that the current spread is smaller."""
    if cur.n_valid < 3:
        return 1.0
    from scipy import stats

    if not (ref.exact and cur.exact):  # a side known by its moments: the F-test of variances
        ratio = cur.variance() / ref.variance()
        return float(stats.f.cdf(ratio, cur.n_valid - 1, ref.n_valid - 1))

    with np.errstate(all="ignore"):
        p = stats.levene(ref.values, cur.values, center="median").pvalue
    return float(p) / 2 if np.isfinite(p) else 1.0


def _range(
    name: str, ref: NumericSample, cur: NumericSample, s: DegradationSettings
) -> list[DegradationAlert]:
    low, high = ref.values[0], ref.values[-1]
    size = cur.values.size  # a sketched sample's grid: each value one equal share of the rows
    below = int(np.searchsorted(cur.values, low, side="left"))
    above = size - int(np.searchsorted(cur.values, high, side="right"))
    share = (below + above) / size
    if size != cur.n_valid:
        below, above = round(below / size * cur.n_valid), round(above / size * cur.n_valid)
    # Under no drift a new value falls outside n reference values with probability 2/(n+1).
    expected = 2 / (ref.n_valid + 1)
    if share <= max(s.out_of_range_share, 2 * expected):
        return []
    if outside_tail(below + above, cur.n_valid, ref.n_valid) >= s.check_alpha:
        return []
    return [
        DegradationAlert(
            name,
            "out_of_range",
            share,
            expected,
            f"{share:.1%} of '{name}' values lie outside the reference range "
            f"[{low:.4g}, {high:.4g}] ({below} below, {above} above). Check units and sources.",
        )
    ]


def _new_categories(
    name: str, ref: Sample, cur: Sample, s: DegradationSettings
) -> list[DegradationAlert]:
    labels, ref_counts, cur_counts = category_counts(ref, cur)
    unseen = (ref_counts == 0) & (cur_counts > 0)
    n_unseen = int(cur_counts[unseen].sum())
    share = n_unseen / cur.n_valid
    if share <= s.new_category_share:
        return []
    singletons = int(np.count_nonzero(ref_counts == 1))  # Good-Turing: P(unseen) ~ f1 / n
    if share_tail(n_unseen, cur.n_valid, singletons, ref.n_valid) >= s.check_alpha:
        return []
    examples = ", ".join(repr(label_text(x)) for x in labels[unseen][:5])
    return [
        DegradationAlert(
            name,
            "new_categories",
            share,
            0.0,
            f"{share:.1%} of '{name}' values are categories never seen in the reference "
            f"({examples}). Map them upstream or retrain with them.",
        )
    ]


def _cardinality(
    name: str, ref: Sample, cur: Sample, s: DegradationSettings
) -> list[DegradationAlert]:
    if ref.n_unique <= s.cardinality_min_unique or not (_counted(ref) and _counted(cur)):
        return []
    # The expected distinct count is at most min(window, reference distinct): skip the exact
    # computation when even that bound cannot trigger the alert.
    if cur.n_unique >= s.cardinality_ratio * min(cur.n_valid, ref.n_unique):
        return []
    counts = _frequencies(ref)
    count_of_counts = np.bincount(counts)
    sizes = np.flatnonzero(count_of_counts)
    p = sizes / ref.n_valid
    expected = float(np.sum(count_of_counts[sizes] * -np.expm1(cur.n_valid * np.log1p(-p))))
    if cur.n_unique >= s.cardinality_ratio * expected:
        return []
    return [
        DegradationAlert(
            name,
            "cardinality_collapse",
            float(cur.n_unique),
            expected,
            f"'{name}' shows {cur.n_unique} distinct values where a window of {cur.n_valid} rows "
            f"would show about {expected:.0f} (reference: {ref.n_unique}). Check for a lost join "
            "or a truncated source.",
        )
    ]
