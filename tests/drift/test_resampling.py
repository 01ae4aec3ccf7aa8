"""The resampled and exact p-values used where asymptotic ones fail, against exact enumeration."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from scipy import stats

from driftloop.drift import METHODS
from driftloop.drift.methods import MethodOptions
from driftloop.drift.resampling import chisquare_p_value, ks_p_value
from driftloop.drift.samples import NumericSample


def _exact_permutation_p(pooled: np.ndarray, n_ref: int, statistic) -> float:  # type: ignore[no-untyped-def]
    """P(T >= t_observed) over every split of the pooled values (first n_ref are the reference)."""
    observed = statistic(pooled[:n_ref], pooled[n_ref:])
    index = np.arange(pooled.size)
    values = []
    for chosen in combinations(index, n_ref):
        mask = np.zeros(pooled.size, dtype=bool)
        mask[list(chosen)] = True
        values.append(statistic(pooled[mask], pooled[~mask]))
    return float(np.mean(np.array(values) >= observed - 1e-12))


def _counts(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.union1d(ref, cur)
    return (
        np.array([np.sum(ref == v) for v in labels], dtype=np.int64),
        np.array([np.sum(cur == v) for v in labels], dtype=np.int64),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ks_resampled_p_value_matches_exact_permutation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref, cur = rng.poisson(2, 9).astype(float), rng.poisson(2.5, 6).astype(float)

    def ks(a: np.ndarray, b: np.ndarray) -> float:
        return float(stats.ks_2samp(a, b).statistic)

    exact = _exact_permutation_p(np.concatenate([ref, cur]), ref.size, ks)
    d, p = ks_p_value(*_counts(ref, cur))
    assert d == pytest.approx(ks(ref, cur))
    assert p == pytest.approx(exact, abs=0.025)  # Monte Carlo error at 1,999 draws


@pytest.mark.parametrize("seed", [0, 1])
def test_chisquare_resampled_p_value_matches_exact_permutation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref, cur = rng.integers(0, 5, 10).astype(float), rng.integers(0, 5, 5).astype(float)

    def chi2(a: np.ndarray, b: np.ndarray) -> float:
        ra, rb = _counts_over(a, np.union1d(ref, cur)), _counts_over(b, np.union1d(ref, cur))
        table = np.vstack([ra, rb])
        expected = table.sum(0) * table.sum(1)[:, None] / table.sum()
        return float(np.sum((table - expected) ** 2 / expected))

    exact = _exact_permutation_p(np.concatenate([ref, cur]), ref.size, chi2)
    assert chisquare_p_value(*_counts(ref, cur)) == pytest.approx(exact, abs=0.025)


def _counts_over(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.array([np.sum(values == v) for v in labels])


def test_resampled_p_values_are_reproducible() -> None:
    rng = np.random.default_rng(3)
    ref, cur = _counts(rng.poisson(3, 200).astype(float), rng.poisson(3, 30).astype(float))
    assert ks_p_value(ref, cur) == ks_p_value(ref, cur)
    assert chisquare_p_value(ref, cur) == chisquare_p_value(ref, cur)


def test_tied_ks_holds_its_level_where_scipy_is_conservative() -> None:
    rng = np.random.default_rng(5)
    ks, ours, theirs = METHODS["ks"], 0, 0
    trials = 400
    for _ in range(trials):
        a, b = rng.poisson(3, 100).astype(float), rng.poisson(3, 100).astype(float)
        _, p = ks.compute(
            NumericSample.from_values(a), NumericSample.from_values(b), MethodOptions()
        )
        ours += p < 0.05
        theirs += stats.ks_2samp(a, b).pvalue < 0.05
    assert theirs / trials < 0.025  # scipy assumes continuity: about 1%
    assert 0.02 < ours / trials <= 0.075


def test_sparse_chisquare_holds_its_level() -> None:
    rng = np.random.default_rng(6)
    weights = 1 / np.arange(1, 51)
    weights /= weights.sum()
    chisquare, alarms, asymptotic = METHODS["chisquare"], 0, 0
    trials = 300
    for _ in range(trials):  # a 30-row window against a 5,000-row reference
        a = rng.choice(50, size=5000, p=weights).astype(float)
        b = rng.choice(50, size=30, p=weights).astype(float)
        _, p = chisquare.compute(
            NumericSample.from_values(a), NumericSample.from_values(b), MethodOptions()
        )
        alarms += p < 0.05
        asymptotic += stats.chi2_contingency(np.vstack(_counts(a, b))).pvalue < 0.05
    assert asymptotic / trials > 0.08  # the chi-square distribution misleads here
    assert alarms / trials <= 0.075


def test_ztest_with_small_expected_counts_uses_an_exact_test() -> None:
    ref = NumericSample.from_values(np.array([1.0] + [0.0] * 30))
    cur = NumericSample.from_values(np.array([1.0, 1.0] + [0.0] * 5))
    z, p = METHODS["ztest"].compute(ref, cur, MethodOptions())
    exact = stats.boschloo_exact([[30, 5], [1, 2]]).pvalue
    assert p == pytest.approx(exact, rel=1e-9)
    assert z < 0  # the first value (0) became less frequent


def test_forced_chisquare_on_a_continuous_column_merges_cells_and_holds_its_level() -> None:
    """One cell per distinct value of 20,000 + 7,000 draws: resampling it would allocate
    gigabytes (1M rows: 30 GiB); the merged table is read asymptotically instead."""
    rng = np.random.default_rng(7)
    chisquare, alarms, trials = METHODS["chisquare"], 0, 200
    for _ in range(trials):
        a, b = rng.normal(size=20_000), rng.normal(size=7_000)
        _, p = chisquare.compute(
            NumericSample.from_values(a), NumericSample.from_values(b), MethodOptions()
        )
        alarms += p < 0.05
    assert alarms / trials <= 0.075
    shifted = rng.normal(0.2, size=7_000)
    _, p = chisquare.compute(
        NumericSample.from_values(rng.normal(size=20_000)),
        NumericSample.from_values(shifted),
        MethodOptions(),
    )
    assert p < 0.001


def test_merged_cells_expect_five_on_each_side() -> None:
    from driftloop.drift.chisquare import merged_cells

    rng = np.random.default_rng(8)
    ref, cur = rng.integers(0, 3, 10_000), rng.integers(0, 3, 10_000)
    table = merged_cells(ref, cur)
    assert table.sum() == ref.sum() + cur.sum() and table.shape[1] >= 2
    expected = stats.contingency.expected_freq(table)
    assert expected.min() >= 5
