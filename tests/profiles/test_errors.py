"""Each statistic read from profiles stays within its documented bound of the exact statistic
(``driftloop.drift.sketched.statistic_bound`` of the column's reported ``error_bound``), on
normal, skewed, heavily tied and integer columns, a profile on one side or both."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import pytest

import driftloop
from driftloop.drift.sketched import statistic_bound
from driftloop.profiles import profile

N = 30_000  # above the 4,096 values a profile keeps exactly: numeric columns are sketched

Shape = Callable[[np.random.Generator, float], np.ndarray]
SHAPES: dict[str, Shape] = {
    "normal": lambda rng, shift: rng.normal(shift, 1.0, N),
    "skewed": lambda rng, shift: rng.lognormal(shift, 1.0, N),
    # ~1,000 distinct values, each repeated ~30 times: too many to count, heavily tied
    "ties": lambda rng, shift: np.round(rng.normal(shift, 1.0, N), 2),
    "integers": lambda rng, shift: rng.integers(0, 5_000, N) + np.round(shift * 1_000),
}


def pair(shape: str, shift: float, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    draw = SHAPES[shape]
    rng = np.random.default_rng(seed)
    ref = pl.DataFrame({"x": draw(rng, 0.0), "c": rng.choice(list("abcde"), N)})
    cur = pl.DataFrame({"x": draw(rng, shift), "c": rng.choice(list("abcdd"), N)})
    flags = {"flag": rng.random(N) < 0.3}
    return ref.with_columns(**flags), cur.with_columns(flag=rng.random(N) < 0.3 + shift / 10)


@pytest.mark.parametrize("shift", [0.0, 0.05], ids=["same", "shifted"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_numeric_statistics_stay_within_their_bound(shape: str, shift: float) -> None:
    ref, cur = pair(shape, shift, seed=len(shape))
    ref_profile, cur_profile = profile(ref), profile(cur)
    assert ref_profile.column("x").rank_error > 0  # sketched, not kept exactly
    for method in ("ks", "wasserstein", "psi", "jensenshannon"):
        config = {"method": method, "columns": {"x": {"kind": "numerical"}}}
        exact = driftloop.detect(ref, cur, columns=["x"], config=config).column("x")
        assert exact.method == method
        for sides in ((ref_profile, cur), (ref_profile, cur_profile)):
            got = driftloop.detect(*sides, columns=["x"], config=config).column("x")
            assert got.error_bound > 0
            bound = statistic_bound(method, exact.statistic, got.error_bound)
            assert abs(got.statistic - exact.statistic) <= bound, (method, sides[1].__class__)


def test_counts_give_exact_chisquare_and_ztest() -> None:
    ref, cur = pair("normal", 0.5, seed=3)
    for method, column in (("chisquare", "c"), ("ztest", "flag")):
        config = {"method": method}
        exact = driftloop.detect(ref, cur, columns=[column], config=config).column(column)
        got = driftloop.detect(profile(ref), profile(cur), columns=[column], config=config)
        assert exact.method == method and got.column(column).error_bound == 0
        assert (got.column(column).statistic, got.column(column).p_value) == (
            exact.statistic,
            exact.p_value,
        )
        assert statistic_bound(method, exact.statistic, 0.0) == 0.0
