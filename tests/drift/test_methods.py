"""One contract for every drift method, and equality with the reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance

from driftloop.drift import METHODS
from driftloop.drift.chisquare import sparse
from driftloop.drift.distances import jensenshannon, wasserstein, wasserstein_normed
from driftloop.drift.ks import _bounded_gap, _searched_gap, ks_pvalue, ks_statistic, ks_test
from driftloop.drift.methods import Family, MethodOptions
from driftloop.drift.psi import psi
from driftloop.drift.resampling import DRAWS, REFINE_DRAWS
from driftloop.drift.samples import CategoricalSample, NumericSample

NUMERIC_METHODS = sorted(METHODS)  # every method applies to numbers (two-valued ones for some)
LABEL_METHODS = sorted(n for n, m in METHODS.items() if m.applies(False, 4))


def numeric_pair(shift: float, n: int = 800, seed: int = 0) -> tuple[NumericSample, NumericSample]:
    rng = np.random.default_rng(seed)
    ref = NumericSample.from_values(rng.normal(size=n))
    cur = NumericSample.from_values(rng.normal(loc=shift, size=n))
    return ref, cur


def label_pair(shifted: bool, n: int = 800, seed: int = 0) -> tuple[CategoricalSample, ...]:
    rng = np.random.default_rng(seed)
    labels = np.array(["a", "b", "c", "d"])
    p_ref = [0.4, 0.3, 0.2, 0.1]
    p_cur = [0.1, 0.2, 0.3, 0.4] if shifted else p_ref
    out = []
    for p in (p_ref, p_cur):
        values, counts = np.unique(rng.choice(labels, size=n, p=p), return_counts=True)
        out.append(CategoricalSample.from_counts(values, counts, n_rows=n))
    return tuple(out)


def run(name: str, ref, cur, numeric: bool = True) -> tuple[float, float | None, bool]:
    method = METHODS[name]
    stat, p = method.compute(ref, cur, MethodOptions("x", numeric=numeric))
    return stat, p, method.drifted(stat, p, method.default_threshold)


def binary_pair(shifted: bool, n: int = 800, seed: int = 0) -> tuple[NumericSample, ...]:
    rng = np.random.default_rng(seed)
    ref = rng.binomial(1, 0.3, size=n).astype(float)
    cur = rng.binomial(1, 0.6 if shifted else 0.3, size=n).astype(float)
    return NumericSample.from_values(ref), NumericSample.from_values(cur)


def pair_for(name: str, shifted: bool, seed: int = 0):
    method = METHODS[name]
    if not method.applies(True, 800):  # a method for few distinct values: two of them
        return binary_pair(shifted, seed=seed)
    ref, cur = numeric_pair(1.0 if shifted else 0.0, seed=seed)
    if method.on_counts:  # a test of counts: give it a handful of distinct values
        ref, cur = (NumericSample.from_values(np.round(s.values)) for s in (ref, cur))
    return ref, cur


@pytest.mark.parametrize("name", NUMERIC_METHODS)
def test_identical_samples_do_not_drift(name: str) -> None:
    ref, _ = pair_for(name, shifted=False)
    stat, p, drifted = run(name, ref, ref)
    assert not drifted
    if p is not None:  # near 1, or the largest p-value the method reports
        assert p > min(0.9, METHODS[name].p_range[1] - 1e-12)
    else:
        assert stat == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", NUMERIC_METHODS)
def test_clear_shift_drifts(name: str) -> None:
    ref, cur = pair_for(name, shifted=True)
    _, _, drifted = run(name, ref, cur)
    assert drifted


@pytest.mark.parametrize("name", LABEL_METHODS)
def test_label_methods_on_categories(name: str) -> None:
    same_ref, same_cur = label_pair(shifted=False)
    ref, cur = label_pair(shifted=True)
    assert not run(name, same_ref, same_cur, numeric=False)[2]
    assert run(name, ref, cur, numeric=False)[2]


@pytest.mark.parametrize("name", NUMERIC_METHODS)
def test_nan_and_inf_are_dropped(name: str) -> None:
    ref, cur = pair_for(name, shifted=True)
    dirty = np.concatenate([cur.values, [np.nan, np.inf, -np.inf, np.nan]])
    dirty_sample = NumericSample.from_values(np.random.default_rng(1).permutation(dirty))
    assert dirty_sample.n_null == 2 and dirty_sample.n_inf == 2
    assert run(name, ref, dirty_sample) == run(name, ref, cur)


@pytest.mark.parametrize("name", NUMERIC_METHODS)
def test_deterministic(name: str) -> None:
    ref, cur = pair_for(name, shifted=True, seed=3)
    assert run(name, ref, cur) == run(name, ref, cur)


floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
samples = st.lists(floats, min_size=1, max_size=60)


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful:RuntimeWarning")
@settings(max_examples=150, deadline=None)
@given(samples, samples)
def test_ks_equals_scipy(a: list[float], b: list[float]) -> None:
    ra, rb = NumericSample.from_values(np.array(a)), NumericSample.from_values(np.array(b))
    expected = stats.ks_2samp(a, b)
    stat, p = ks_test(ra, rb)
    assert stat == pytest.approx(expected.statistic, abs=1e-12)
    if len(set(a) | set(b)) == len(a) + len(b):  # continuous data: scipy's exact p-value
        assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    else:  # repeated values: the resampled p-value, never below scipy's by much
        assert 1 / (DRAWS + 1) <= p <= 1.0
    # the merge-based statistic used for large samples agrees on every input too
    assert ks_statistic(ra, rb) == pytest.approx(expected.statistic, abs=1e-12)
    assert 0.0 <= stat <= 1.0
    assert ks_test(rb, ra)[0] == pytest.approx(stat, abs=1e-12)  # symmetric


@pytest.mark.parametrize(("n1", "n2"), [(12_000, 15_000), (20_000, 20_000)])
def test_ks_large_samples_equal_scipy_asymptotic(n1: int, n2: int) -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=n1).round(4), rng.normal(0.02, size=n2).round(4)  # with ties
    expected = stats.ks_2samp(a, b)
    stat, p = ks_test(NumericSample.from_values(a), NumericSample.from_values(b))
    assert stat == pytest.approx(expected.statistic, abs=1e-12)
    if n1 * n2 / (n1 + n2) < 10_000:
        assert p == pytest.approx(expected.pvalue, rel=1e-9)
    else:  # the corrected Kolmogorov limit stands in for kstwo.sf (module docstring)
        assert p == pytest.approx(expected.pvalue, abs=2.2e-6)


@pytest.mark.parametrize("en", [10_000, 31_623, 100_000, 500_000, 5_000_000])
def test_ks_series_pvalue_matches_kstwo(en: int) -> None:
    # Over the whole range where a verdict can turn (p from ~1 to ~1e-7), at 113 points.
    for x in np.linspace(0.2, 3.0, 113):
        d = x / np.sqrt(en)
        assert ks_pvalue(d, 2 * en, 2 * en) == pytest.approx(stats.kstwo.sf(d, en), abs=2.2e-6)


def test_ks_statistic_with_ties_in_one_sample_only() -> None:
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=30_000).round(1), rng.normal(0.01, size=25_000)
    ra, rb = NumericSample.from_values(a), NumericSample.from_values(b)
    expected = stats.ks_2samp(a, b, method="asymp").statistic
    assert ks_statistic(ra, rb) == pytest.approx(expected, abs=1e-12)
    assert ks_statistic(rb, ra) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("n1", "n2", "digits"),
    [(20_000, 20_000, None), (20_000, 20_000, 1), (15_000, 50_000, 2), (3_000, 40_000, None),
     (3_000, 40_000, 1), (40_000, 2_000, 0)],
    ids=["equal-continuous", "equal-tied", "close-tied", "far-continuous", "far-tied",
         "far-reversed-tied"],
)  # fmt: skip
def test_ks_bounded_and_full_search_both_equal_scipy(n1: int, n2: int, digits: int | None) -> None:
    rng = np.random.default_rng(n1 + n2)
    a, b = rng.normal(size=n1), rng.normal(0.03, size=n2)
    if digits is not None:  # repeated values on both sides, and values the sides share
        a, b = a.round(digits), b.round(digits)
    ra, rb = NumericSample.from_values(a), NumericSample.from_values(b)
    expected = stats.ks_2samp(a, b, method="asymp").statistic
    by_size = ks_statistic(ra, rb)
    assert by_size == pytest.approx(expected, abs=1e-12)
    small, large = sorted((ra, rb), key=lambda s: s.n_valid)
    n, m = small.n_valid, large.n_valid
    bounded, searched = _bounded_gap(small, large), _searched_gap(small, large)
    assert bounded == searched  # both exact integer gaps: the same statistic either way
    assert by_size == bounded / (n * m) == ks_statistic(rb, ra)
    assert ks_statistic(ra, ra) == 0.0  # a gap near its peak everywhere: the full search


@settings(max_examples=150, deadline=None)
@given(samples, samples)
def test_wasserstein_equals_scipy(a: list[float], b: list[float]) -> None:
    ra, rb = NumericSample.from_values(np.array(a)), NumericSample.from_values(np.array(b))
    expected = stats.wasserstein_distance(a, b)
    assert wasserstein(ra, rb) == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_wasserstein_normed_by_reference_std_under_evidently_definitions() -> None:
    ref, cur = numeric_pair(0.5, n=3000)
    expected = stats.wasserstein_distance(ref.values, cur.values) / np.std(ref.values)
    assert wasserstein_normed(ref, cur, robust=False) == pytest.approx(expected, rel=1e-9)


def test_robust_wasserstein_reads_like_std_units_on_normal_data() -> None:
    ref, cur = numeric_pair(0.5, n=20_000)
    assert wasserstein_normed(ref, cur) == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("side", ["reference", "current"])
def test_one_outlier_neither_blinds_nor_fires_robust_wasserstein(side: str) -> None:
    rng = np.random.default_rng(4)
    clean = rng.normal(size=100_000)
    outlier = np.append(clean[:-1], 1e6)
    same = NumericSample.from_values(rng.normal(size=100_000))
    shifted = NumericSample.from_values(rng.normal(0.3, size=100_000))
    if side == "reference":  # blind before: the std became ~3,000
        dirty = NumericSample.from_values(outlier)
        assert wasserstein_normed(dirty, shifted) == pytest.approx(0.3, abs=0.03)
        assert wasserstein_normed(dirty, shifted, robust=False) < 0.01
    else:  # always on before: the outlier alone moved 10 units of mass
        dirty = NumericSample.from_values(outlier)
        assert wasserstein_normed(same, dirty) < 0.02
        assert wasserstein_normed(same, dirty, robust=False) > 5


def test_robust_wasserstein_sees_features_in_small_units() -> None:
    rng = np.random.default_rng(6)
    ref = NumericSample.from_values(rng.normal(0, 1e-5, 5000))
    cur = NumericSample.from_values(rng.normal(5e-6, 1e-5, 5000))  # half a standard deviation
    assert wasserstein_normed(ref, cur) == pytest.approx(0.5, abs=0.05)
    assert wasserstein_normed(ref, cur, robust=False) < 0.01  # the 0.001 floor hid it


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from("abcdef"), min_size=1, max_size=80),
    st.lists(st.sampled_from("abcdefg"), min_size=1, max_size=80),
)
def test_chisquare_equals_chi2_contingency(a: list[str], b: list[str]) -> None:
    ra = CategoricalSample.from_counts(a, [1] * len(a), n_rows=len(a))
    rb = CategoricalSample.from_counts(b, [1] * len(b), n_rows=len(b))
    stat, p = METHODS["chisquare"].compute(ra, rb, MethodOptions(numeric=False))
    labels = sorted(set(a) | set(b))
    table = [[a.count(x) for x in labels], [b.count(x) for x in labels]]
    if len(labels) < 2:
        assert (stat, p) == (0.0, 1.0)
        return
    expected = stats.chi2_contingency(table)
    assert stat == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
    if sparse(expected.expected_freq):  # small expected counts: the resampled p-value, refined
        assert 1 / (REFINE_DRAWS + 1) <= p <= 1.0  # past the first draws (no floor at 0.0005)
    else:
        assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_ztest_squared_equals_uncorrected_chi2() -> None:
    ref, cur = binary_pair(shifted=True, n=300)
    z, p = METHODS["ztest"].compute(ref, cur, MethodOptions())
    table = [
        [int((ref.values == v).sum()) for v in (0, 1)],
        [int((cur.values == v).sum()) for v in (0, 1)],
    ]
    expected = stats.chi2_contingency(table, correction=False)
    assert z**2 == pytest.approx(expected.statistic, rel=1e-9)
    assert p == pytest.approx(expected.pvalue, rel=1e-9)


def _evidently_js(a: np.ndarray, b: np.ndarray, n_bins: int = 30) -> float:
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins=n_bins)
    pa = np.histogram(a, edges)[0] / len(a)
    pb = np.histogram(b, edges)[0] / len(b)
    np.place(pa, pa == 0, 0.0001)
    np.place(pb, pb == 0, 0.0001)
    return float(distance.jensenshannon(pa, pb))


@settings(max_examples=100, deadline=None)
@given(samples, samples)
def test_jensenshannon_equals_scipy_on_binned_proportions(a: list[float], b: list[float]) -> None:
    ra, rb = NumericSample.from_values(np.array(a)), NumericSample.from_values(np.array(b))
    evidently = {"numeric": True, "bins": "equal_width"}
    try:
        expected = _evidently_js(np.array(a), np.array(b))
    except ValueError:  # numpy cannot make 30 bins of a sub-normal range; we fall back to values
        assert 0.0 <= jensenshannon(ra, rb, **evidently) <= 1.0  # type: ignore[arg-type]
        return
    got = jensenshannon(ra, rb, **evidently)  # type: ignore[arg-type]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_jensenshannon_quantile_bins_see_a_change_of_scale_in_skewed_data() -> None:
    rng = np.random.default_rng(8)
    ref = NumericSample.from_values(rng.lognormal(sigma=1.5, size=5000))
    cur = NumericSample.from_values(2 * rng.lognormal(sigma=1.5, size=5000))
    assert jensenshannon(ref, cur, numeric=True) >= 0.1
    assert jensenshannon(ref, cur, numeric=True, bins="equal_width") < 0.1


def _seed_psi(
    reference: np.ndarray, current: np.ndarray, n_bins: int = 10, eps: float = 1e-4
) -> float:
    # The formula of the article driftloop grew from, verbatim in substance.
    quantiles = np.linspace(0, 100, n_bins + 1)
    bin_edges = np.percentile(reference, quantiles)
    bin_edges[0] = -np.inf
    bin_edges[-1] = np.inf
    ref_counts = np.histogram(reference, bins=bin_edges)[0]
    cur_counts = np.histogram(current, bins=bin_edges)[0]
    ref_pct = ref_counts / len(reference) + eps
    cur_pct = cur_counts / len(current) + eps
    return float(np.sum((cur_pct - ref_pct) * np.log(cur_pct / ref_pct)))


@settings(max_examples=150, deadline=None)
@given(st.lists(floats, min_size=2, max_size=80), samples)
def test_psi_equals_seed_formula(a: list[float], b: list[float]) -> None:
    ra, rb = NumericSample.from_values(np.array(a)), NumericSample.from_values(np.array(b))
    expected = _seed_psi(np.array(a), np.array(b))
    assert psi(ra, rb, numeric=True) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", [n for n, m in METHODS.items() if m.family is Family.DISTANCE])
def test_distances_have_no_p_value(name: str) -> None:
    ref, cur = numeric_pair(0.3)
    assert run(name, ref, cur)[1] is None


def test_a_registered_method_works_from_config_and_is_validated() -> None:
    import polars as pl

    import driftloop
    from driftloop.drift.methods import METHODS as TABLE
    from driftloop.drift.methods import register_method
    from driftloop.errors import ConfigError

    def mean_gap(ref: NumericSample, cur: NumericSample, options: MethodOptions):  # type: ignore[no-untyped-def]
        return abs(float(cur.values.mean() - ref.values.mean())), None

    register_method("mean_gap", mean_gap, family="distance", default_threshold=0.5)
    try:
        rng = np.random.default_rng(1)
        ref = pl.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(["a", "b"], 3000)})
        cur = pl.DataFrame({"x": rng.normal(1, size=3000), "c": rng.choice(["a", "b"], 3000)})
        report = driftloop.detect(ref, cur, config={"method": "mean_gap"})
        assert report.column("x").method == "mean_gap" and report.column("x").drifted
        assert report.column("c").method != "mean_gap"  # numeric only: auto for labels
        with pytest.raises(ConfigError, match=r"threshold.*mean_gap"):
            driftloop.detect(ref, cur, config={"thresholds": {"mean_gap": -1}})
        with pytest.raises(ConfigError, match="already registered"):
            register_method("mean_gap", lambda r, c, o: (0.0, None), family="distance")
        with pytest.raises(ConfigError, match="must be a word"):
            register_method("auto", mean_gap)
    finally:
        TABLE.pop("mean_gap", None)


@settings(max_examples=100, deadline=None)
@given(st.lists(floats, min_size=1, max_size=300), st.floats(1e-3, 1e6))
def test_sample_std_in_units_equals_numpy_bit_for_bit(values: list[float], scale: float) -> None:
    sample = NumericSample.from_values(np.array(values))
    assert sample.std(scale) == float(np.std(sample.values / scale))
