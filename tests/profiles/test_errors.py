"""Each statistic read from profiles stays within the ``statistic_error`` its column reports
(:mod:`driftloop.drift.sketch_error`), on normal, skewed, heavy-tailed, uniform, heavily tied,
integer and bimodal columns, a profile on one side or both, with and without a shift.

A profile's quantile sketch compacts at random, so every build differs a little: each case is
profiled several times."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import pytest

import driftloop
from driftloop.profiles import profile

N = 30_000  # above the 4,096 values a profile keeps exactly: numeric columns are sketched
BUILDS = 4

Shape = Callable[[np.random.Generator, float], np.ndarray]
SHAPES: dict[str, Shape] = {
    "normal": lambda rng, shift: rng.normal(shift, 1.0, N),
    "skewed": lambda rng, shift: rng.lognormal(shift, 1.0, N),
    "heavy": lambda rng, shift: rng.lognormal(shift, 2.0, N),
    "t3": lambda rng, shift: rng.standard_t(3, N) + shift,
    "uniform": lambda rng, shift: rng.random(N) + shift,
    # ~1,000 distinct values, each repeated ~30 times: too many to count, heavily tied
    "ties": lambda rng, shift: np.round(rng.normal(shift, 1.0, N), 2),
    "integers": lambda rng, shift: rng.integers(0, 5_000, N) + np.round(shift * 1_000),
    "bimodal": lambda rng, shift: np.where(
        rng.random(N) < 0.9, rng.normal(shift, 1.0, N), rng.normal(8.0, 0.1, N)
    ),
}


def pair(shape: str, shift: float, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    draw = SHAPES[shape]
    rng = np.random.default_rng(seed)
    ref = pl.DataFrame({"x": draw(rng, 0.0), "c": rng.choice(list("abcde"), N)})
    cur = pl.DataFrame({"x": draw(rng, shift), "c": rng.choice(list("abcdd"), N)})
    flags = {"flag": rng.random(N) < 0.3}
    return ref.with_columns(**flags), cur.with_columns(flag=rng.random(N) < 0.3 + shift / 10)


@pytest.mark.parametrize("shift", [0.0, 0.1], ids=["same", "shifted"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_numeric_statistics_stay_within_their_reported_error(shape: str, shift: float) -> None:
    ref, cur = pair(shape, shift, seed=len(shape))
    methods = ("ks", "wasserstein", "psi", "jensenshannon")
    config = {m: {"method": m, "columns": {"x": {"kind": "numerical"}}} for m in methods}
    exact = {m: driftloop.detect(ref, cur, columns=["x"], config=config[m]) for m in methods}
    for _ in range(BUILDS):
        ref_profile, cur_profile = profile(ref), profile(cur)
        assert ref_profile.column("x").rank_error > 0  # sketched, not kept exactly
        for method in methods:
            want = exact[method].column("x")
            assert want.method == method and want.statistic_error == 0
            for sides in ((ref_profile, cur), (ref_profile, cur_profile), (ref, cur_profile)):
                got = driftloop.detect(*sides, columns=["x"], config=config[method]).column("x")
                assert got.error_bound > 0 and got.statistic_error > 0
                error = abs(got.statistic - want.statistic)
                assert error <= got.statistic_error, (method, shape, [type(s) for s in sides])


def test_a_heavy_tail_gives_a_wide_error_and_says_when_the_verdict_is_uncertain() -> None:
    """Where the sketch cannot place a lognormal's 0.1% clip points, the Wasserstein distance
    read from it carries a wide error, and a verdict that error could flip is flagged."""
    ref, cur = pair("heavy", 0.0, seed=5)
    config = {"method": "wasserstein", "columns": {"x": {"kind": "numerical"}}}
    normal = driftloop.detect(*map(profile, pair("normal", 0.0, seed=5)[:2]), config=config)
    heavy = driftloop.detect(profile(ref), profile(cur), config=config)
    got, calm = heavy.column("x"), normal.column("x")
    assert got.statistic_error > 10 * calm.statistic_error > 0
    assert got.statistic_error > abs(got.statistic - got.threshold)
    assert got.warning is not None and "raw data could give the other verdict" in got.warning
    assert calm.warning is None
    assert heavy.to_dict()["columns"][0]["statistic_error"] == got.statistic_error
    html = heavy.to_html()
    from driftloop.report.format import fmt_number

    assert f"± {fmt_number(got.statistic_error)}" in html and "other verdict" in html
    assert "±" not in driftloop.detect(ref, cur, config=config).to_html()


def test_a_registered_method_reading_a_sketch_says_its_error_is_unknown() -> None:
    from driftloop.drift.methods import METHODS, register_method

    def mean_gap(ref, cur, options):  # type: ignore[no-untyped-def]
        return abs(float(cur.values.mean() - ref.values.mean())), None

    register_method("mean_gap_sketch", mean_gap, family="distance", default_threshold=0.5)
    try:
        ref, cur = pair("normal", 0.0, seed=2)
        config = {"method": "mean_gap_sketch", "columns": {"x": {"kind": "numerical"}}}
        got = driftloop.detect(profile(ref), cur, columns=["x"], config=config).column("x")
        exact = driftloop.detect(ref, cur, columns=["x"], config=config).column("x")
    finally:
        METHODS.pop("mean_gap_sketch", None)
    assert got.statistic_error is None and exact.statistic_error == 0
    assert got.warning is not None and "is unknown" in got.warning


def test_counts_give_exact_chisquare_and_ztest() -> None:
    ref, cur = pair("normal", 0.5, seed=3)
    for method, column in (("chisquare", "c"), ("ztest", "flag")):
        config = {"method": method}
        exact = driftloop.detect(ref, cur, columns=[column], config=config).column(column)
        got = driftloop.detect(profile(ref), profile(cur), columns=[column], config=config)
        assert exact.method == method and got.column(column).error_bound == 0
        assert got.column(column).statistic_error == 0
        assert (got.column(column).statistic, got.column(column).p_value) == (
            exact.statistic,
            exact.p_value,
        )
