"""detect with profiles: identical to frames while values are exact; within stated errors from
sketches; a profile on either side or both."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest

import driftloop
from driftloop.errors import ProfileError, SchemaError, ValueQualityError
from driftloop.profiles import load_profile, profile, save_profile

from .test_fileformat import wide


def report_dict(report: driftloop.DriftReport) -> dict[str, Any]:
    out = report.to_dict()
    for key in ("seconds", "reference_source", "current_source"):
        out.pop(key, None)
    return out


def small_pair(seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    ref = wide(800, seed)
    cur = wide(300, seed + 1).with_columns(
        (pl.col("num_02") + 3).alias("num_02"),
        pl.lit(None, dtype=pl.Float64).alias("num_03"),
        pl.lit("label_1").alias("cat_1"),
    )
    return ref, cur


@pytest.mark.parametrize(
    "method", ["auto", "evidently", "ks", "psi", "wasserstein", "jensenshannon"]
)
def test_exact_profiles_give_the_frames_report(method: str) -> None:
    ref, cur = small_pair(3)
    config = {"method": method}
    expected = report_dict(driftloop.detect(ref, cur, config=config))
    assert expected["degradation"]  # the pair exercises degradation checks too
    for reference, current in (
        (profile(ref), cur),
        (ref, profile(cur)),
        (profile(ref), profile(cur)),
    ):
        assert report_dict(driftloop.detect(reference, current, config=config)) == expected


def test_few_distinct_values_stay_exact_at_any_size() -> None:
    rng = np.random.default_rng(5)
    ref = pl.DataFrame({"count": rng.poisson(3, 60_000), "flag": rng.integers(0, 2, 60_000)})
    cur = pl.DataFrame({"count": rng.poisson(3.05, 50_000), "flag": rng.integers(0, 2, 50_000)})
    for method in ("ks", "auto", "chisquare"):
        config = {"method": method}
        expected = report_dict(driftloop.detect(ref, cur, config=config))
        assert report_dict(driftloop.detect(profile(ref), profile(cur), config=config)) == expected


@pytest.fixture(scope="module")
def large() -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(11)
    n = 60_000
    ref = pl.DataFrame({f"x{i}": rng.normal(0, 1 + i, n) for i in range(6)})
    shifts = [0.0, 0.02, 0.05, 0.3, 0.0, 0.0]
    cur = pl.DataFrame(
        {
            f"x{i}": rng.normal(s * (1 + i), (1 + i) * (0.5 if i == 5 else 1), n)
            for i, s in enumerate(shifts)
        }
    )
    return ref, cur


@pytest.mark.parametrize("method", ["jensenshannon", "psi", "wasserstein"])
def test_distances_from_sketches_are_within_their_reported_error(large, method: str) -> None:  # type: ignore[no-untyped-def]
    """Within each column's statistic_error (tests/profiles/test_errors.py checks it on many
    shapes); a verdict differs from the raw data's only where that error reaches the threshold,
    and the column then says so."""
    ref, cur = large
    config = {"method": method}
    exact = driftloop.detect(ref, cur, config=config)
    sketched = driftloop.detect(profile(ref), profile(cur), config=config)
    for e in exact.columns:
        s = sketched.column(e.name)
        assert s.method == e.method and s.statistic_error > 0
        assert abs(s.statistic - e.statistic) <= s.statistic_error
        if s.drifted != e.drifted:
            assert abs(s.statistic - s.threshold) <= s.statistic_error
            assert "raw data could give the other verdict" in (s.warning or "")


def test_ks_from_sketches_is_within_the_rank_error_and_never_more_alarming(large) -> None:  # type: ignore[no-untyped-def]
    ref, cur = large
    pr, pc = profile(ref), profile(cur)
    exact = driftloop.detect(ref, cur, config={"method": "ks"})
    sketched = driftloop.detect(pr, pc, config={"method": "ks"})
    data = sketched.to_dict()
    assert (data["reference_source"], data["current_source"]) == ("profile", "profile")
    assert exact.to_dict()["reference_source"] == "data"
    assert all(c["error_bound"] > 0 for c in data["columns"])
    assert all(c["error_bound"] == 0 for c in exact.to_dict()["columns"])
    ref_sample = pr.column("x0").sample(pr.column("x0").family, side="reference", nonfinite="drop")
    bound = 2 * ref_sample.error
    for e in exact.columns:
        s = sketched.column(e.name)
        assert abs(s.statistic - e.statistic) <= bound
        assert s.p_value >= e.p_value or s.drifted == e.drifted
    assert sketched.column("x3").drifted and not sketched.column("x0").drifted


def test_degradation_from_sketches_reads_exact_counts_and_moments(large) -> None:  # type: ignore[no-untyped-def]
    ref, cur = large
    cur = cur.with_columns(
        pl.when(pl.int_range(cur.height) % 5 == 0).then(None).otherwise(pl.col("x0")).alias("x0"),
        (pl.col("x1") * 0.1).alias("x1"),
        (pl.col("x2") + 100).alias("x2"),
    )
    exact = {(a.feature, a.kind) for a in driftloop.detect(ref, cur).degradation}
    sketched = {
        (a.feature, a.kind) for a in driftloop.detect(profile(ref), profile(cur)).degradation
    }
    assert exact == sketched
    assert {("x0", "null_rate"), ("x1", "variance_collapse"), ("x2", "out_of_range")} <= exact


def test_a_saved_profile_is_a_reference(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ref, cur = small_pair(4)
    path = save_profile(profile(ref), tmp_path / "ref.profile")
    expected = report_dict(driftloop.detect(ref, cur))
    assert report_dict(driftloop.detect(driftloop.load_profile(path), cur)) == expected
    assert driftloop.load_profile is load_profile and isinstance(
        driftloop.profile(ref), driftloop.Profile
    )


def test_bad_profile_sides_are_one_clear_line() -> None:
    ref, cur = small_pair(5)
    with pytest.raises(SchemaError, match="Column 'nope' is not in the reference data"):
        driftloop.detect(profile(ref), cur, columns=["nope"])
    strict = {"strict_schema": True}
    with pytest.raises(SchemaError, match=r"dtype changed: num_00 \(Float64 -> String\)"):
        driftloop.detect(
            profile(ref), cur.with_columns(pl.col("num_00").cast(pl.String)), config=strict
        )
    inf = {"nonfinite": "error"}
    with pytest.raises(
        ValueQualityError, match=r"Column 'num_01' in reference profile has .* inf value"
    ):
        driftloop.detect(profile(ref), cur, config=inf)
    as_label = profile(cur.with_columns(pl.col("flag").cast(pl.String)))
    report = driftloop.detect(profile(ref), as_label)
    assert [a.kind for a in report.degradation if a.feature == "flag"] == ["dtype_change"]
    with pytest.raises(ProfileError, match="not in the profile"):
        profile(ref).column("nope")


def test_profiles_of_values_near_the_float_limit_give_valid_json_and_no_bogus_alert() -> None:
    """A profile's sum of squares of values near 1e306 overflows; the variance check once raised
    'collapsed to nan%' with inf in the JSON report (invalid JSON)."""
    import json
    import warnings

    rng = np.random.default_rng(8)
    ref = pl.DataFrame({"x": rng.normal(0, 1, 20_000) * 1e306})
    cur = pl.DataFrame({"x": rng.normal(0.1, 1, 20_000) * 1e306})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow in the moments
        sides = profile(ref), profile(cur)
    for method in ("wasserstein", "ks", "psi", "jensenshannon"):
        report = driftloop.detect(*sides, config={"method": method})
        column = json.loads(report.to_json())["columns"][0]
        assert column["statistic_error"] is not None and 0 < column["statistic_error"] < 1
        assert report.degradation == ()
    assert (
        driftloop.detect(*sides).column("x").drifted
        == driftloop.detect(ref, cur).column("x").drifted
    )
