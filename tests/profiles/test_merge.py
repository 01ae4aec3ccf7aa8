"""merge(profile(A), profile(B)) equals profile(A ∪ B): exactly for counts, extremes, moments and
categories; within the sketch's rank error for quantiles."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftloop.errors import ProfileError
from driftloop.profiles import merge, profile
from driftloop.profiles.numeric import EXACT_MAX, rank_error

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
special = st.sampled_from([None, float("nan"), float("inf"), float("-inf")])
cells = st.one_of(finite, finite, finite, special)
labels = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "é", ""]))


def frame(xs: list[float | None], cs: list[str | None]) -> pl.DataFrame:
    n = min(len(xs), len(cs))
    return pl.DataFrame(
        {"x": pl.Series(xs[:n], dtype=pl.Float64), "c": pl.Series(cs[:n], dtype=pl.String)}
    )


def assert_same(merged, whole) -> None:  # type: ignore[no-untyped-def]
    assert merged.height == whole.height and merged.columns == whole.columns
    for m, w in zip(merged.profiles, whole.profiles, strict=True):
        assert (m.n_rows, m.n_null, m.n_inf) == (w.n_rows, w.n_null, w.n_inf)
        if w.numeric is not None:
            a, b = m.numeric, w.numeric
            assert (a.count, a.minimum, a.maximum) == (b.count, b.minimum, b.maximum)
            assert math.isclose(a.mean, b.mean, rel_tol=1e-9, abs_tol=1e-6)
            assert math.isclose(a.m2, b.m2, rel_tol=1e-7, abs_tol=1e-3)
            if b.values is not None:
                assert a.values.tolist() == b.values.tolist()
            assert (a.distinct is None) == (b.distinct is None)
            if b.distinct is not None:
                assert a.distinct[0].tolist() == b.distinct[0].tolist()
                assert a.distinct[1].tolist() == b.distinct[1].tolist()
        if w.labels is not None:
            assert m.labels == w.labels


@settings(max_examples=60, deadline=None)
@given(
    st.lists(cells, min_size=1, max_size=60),
    st.lists(cells, min_size=1, max_size=60),
    st.lists(labels, min_size=60, max_size=60),
)
def test_merge_equals_profile_of_union(xa, xb, cs) -> None:  # type: ignore[no-untyped-def]
    a, b = frame(xa, cs), frame(xb, cs)
    assert_same(merge(profile(a), profile(b)), profile(pl.concat([a, b])))


@settings(max_examples=8, deadline=None)
@given(st.integers(1, 3 * EXACT_MAX), st.integers(1, 3 * EXACT_MAX), st.integers(0, 2**31))
def test_large_merges_keep_quantiles_within_the_rank_error(n_a, n_b, seed) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    xa, xb = rng.normal(size=n_a), rng.lognormal(size=n_b)
    merged = merge(profile(pl.DataFrame({"x": xa})), profile(pl.DataFrame({"x": xb})))
    whole = np.sort(np.concatenate([xa, xb]))
    column = merged.column("x")
    sketch = column.numeric.quantile_sketch()
    ranks = np.linspace(0.01, 0.99, 25)
    estimates = np.asarray(sketch.get_quantiles(ranks))  # type: ignore[attr-defined]
    true_ranks = np.searchsorted(whole, estimates, side="right") / whole.size
    # ranks are read inclusive or exclusive at ties of the grid: two steps of 1 / n beyond it
    assert np.max(np.abs(true_ranks - ranks)) <= rank_error() + 2 / whole.size + 1e-9
    assert column.numeric.count == whole.size
    assert math.isclose(column.numeric.mean, float(whole.mean()), rel_tol=1e-9, abs_tol=1e-12)


def test_category_cap_keeps_the_most_frequent_and_counts_the_rest() -> None:
    from driftloop.profiles.labels import CATEGORY_MAX, OTHER

    values = [f"v{i:04d}" for i in range(CATEGORY_MAX + 50)] + ["v0000"] * 10
    p = profile(pl.DataFrame({"c": values}))
    counts = p.column("c").labels
    assert len(counts.labels) == CATEGORY_MAX and counts.total == len(values)
    assert counts.other == 50 and "v0000" in counts.labels
    assert counts.as_counts()[0][-1] == OTHER


def test_merging_different_kinds_is_one_clear_error() -> None:
    a = profile(pl.DataFrame({"x": [1.0, 2.0]}))
    b = profile(pl.DataFrame({"x": ["a", "b"]}))
    with pytest.raises(
        ProfileError, match=r"Column 'x' is number \(Float64\) in one profile and label"
    ):
        merge(a, b)
    with pytest.raises(ProfileError, match="different columns"):
        merge(a, profile(pl.DataFrame({"y": [1.0]})))


def test_parts_merge_whatever_their_column_order_and_an_all_null_part() -> None:
    """A day whose column held no value is typed Null by its file; the same columns in another
    order are the same columns (both refused before; found by a red-team run)."""
    whole = pl.DataFrame({"x": [1.0, 2.0, None, 4.0], "c": ["a", None, "b", "a"]})
    first = pl.DataFrame({"x": [1.0, 2.0], "c": ["a", None]})
    reordered = pl.DataFrame({"c": ["b", "a"], "x": [None, 4.0]})
    assert_same(merge(profile(first), profile(reordered)), profile(whole))
    empty_day = pl.DataFrame({"x": [None, None], "c": ["b", "a"]})  # x: dtype Null
    assert empty_day.schema["x"] == pl.Null
    merged = merge(profile(first), profile(empty_day))
    x = merged.column("x")
    assert (x.dtype, x.n_rows, x.n_null, x.numeric.count) == ("Float64", 4, 2, 2)
    both_ways = merge(profile(empty_day), profile(first)).column("x")
    assert (both_ways.dtype, both_ways.n_rows, both_ways.n_null) == ("Float64", 4, 2)
    with pytest.raises(ProfileError, match=r"only in the first: c; only in the second: y"):
        merge(profile(first), profile(first.rename({"c": "y"})))
