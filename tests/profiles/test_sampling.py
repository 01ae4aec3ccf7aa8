"""Rows drawn from a profile follow each column's profiled distribution."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from driftloop.profiles import profile
from driftloop.profiles.sampling import Sampler


def population(rows: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "skewed": rng.lognormal(0.0, 1.0, rows),
            "counts": rng.poisson(4.0, rows),
            "wide_ints": rng.integers(0, 1_000_000, rows),
            "kind": rng.choice(["a", "b", "c"], rows, p=[0.6, 0.3, 0.1]),
            "flag": rng.random(rows) < 0.2,
            "sparse": np.where(rng.random(rows) < 0.25, np.nan, rng.normal(size=rows)),
        }
    )


def test_draws_match_the_population_and_keep_dtypes() -> None:
    data = population(200_000, seed=0)
    reference = profile(data)
    drawn = Sampler(reference).draw(50_000, np.random.default_rng(1))
    assert drawn.schema == data.schema
    fresh = population(50_000, seed=2)
    for column in ("skewed", "counts", "wide_ints"):
        ks = stats.ks_2samp(drawn[column].to_numpy(), fresh[column].to_numpy())
        assert ks.statistic < 0.015, (column, ks.statistic)  # sketch path: rank error 0.27%
    shares = drawn["kind"].value_counts(normalize=True).sort("kind")["proportion"].to_numpy()
    assert np.allclose(shares, [0.6, 0.3, 0.1], atol=0.01)
    assert abs(drawn["flag"].mean() - 0.2) < 0.01  # type: ignore[operator]
    nulls = drawn["sparse"].is_null().mean() + drawn["sparse"].is_nan().sum() / 50_000
    assert abs(nulls - 0.25) < 0.01


def test_few_distinct_and_exact_values_are_drawn_from_those_values() -> None:
    data = pl.DataFrame({"x": [1.0, 2.0, 2.0, 7.5], "n": [3, 3, 3, 9]})
    drawn = Sampler(profile(data)).draw(4000, np.random.default_rng(0))
    assert set(drawn["x"].unique().to_list()) == {1.0, 2.0, 7.5}
    assert set(drawn["n"].unique().to_list()) == {3, 9}
    assert abs((drawn["n"] == 9).mean() - 0.25) < 0.03  # type: ignore[operator]


def test_the_same_seed_draws_the_same_window() -> None:
    sampler = Sampler(profile(population(10_000, seed=3)))
    a = sampler.draw(100, np.random.default_rng(7))
    assert a.equals(sampler.draw(100, np.random.default_rng(7)))
