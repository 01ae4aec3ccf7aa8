"""One family per window: distances need significance, findings are judged together, no floors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

import driftloop
from driftloop.config import TriggerConfig
from driftloop.drift.family import holm, plan
from driftloop.drift.results import DriftReport
from driftloop.errors import ConfigError
from driftloop.pipeline.steps.detect import reasons_to_fire


def _lognormal_pairs(trials: int, n: int, sigma: float, seed: int = 0) -> list[DriftReport]:
    rng = np.random.default_rng(seed)
    return [
        driftloop.detect(
            pl.DataFrame({"x": rng.lognormal(0, sigma, n)}),
            pl.DataFrame({"x": rng.lognormal(0, sigma, n)}),
        )
        for _ in range(trials)
    ]


def test_a_skewed_column_in_large_windows_is_not_flagged_by_its_distance_alone() -> None:
    # The reproduction: lognormal(0, 1.5), 2,000 a side, flagged in 90 of 100 by Wasserstein >= 0.1
    reports = _lognormal_pairs(100, 2000, 1.5)
    columns = [r.column("x") for r in reports]
    assert {c.method for c in columns} == {"wasserstein"} and {c.test for c in columns} == {"ks"}
    past_threshold = sum(c.statistic is not None and c.statistic >= c.threshold for c in columns)
    assert past_threshold >= 60  # the effect size alone is noise here
    assert sum(c.drifted for c in columns) <= 11  # at most 5% + 3 SE of 100 trials
    assert all(c.drifted == (c.statistic >= c.threshold and c.p_value < 0.05) for c in columns)


def test_a_shifted_skewed_column_is_still_caught() -> None:
    rng = np.random.default_rng(1)
    ref = rng.lognormal(0, 1, 3000)
    cur = rng.lognormal(0, 1, 3000) + 0.4 * ref.std()
    column = driftloop.detect(pl.DataFrame({"x": ref}), pl.DataFrame({"x": cur})).column("x")
    assert column.method == "wasserstein" and column.drifted and column.p_value < 1e-10


def test_a_forced_distance_never_flags_against_its_own_p_value() -> None:
    rng = np.random.default_rng(5)
    flagged = 0
    for _ in range(40):
        ref, cur = rng.lognormal(0, 1.5, 60), rng.lognormal(0, 1.5, 20)
        column = driftloop.detect(
            pl.DataFrame({"x": ref}), pl.DataFrame({"x": cur}), config={"method": "psi"}
        ).column("x")
        assert column.test == "resampled"
        assert not column.drifted or column.p_value < 0.05
        flagged += column.drifted
    assert flagged <= 6


def test_a_strongly_drifted_tied_column_has_no_p_value_floor() -> None:
    rng = np.random.default_rng(3)
    ref, cur = np.round(rng.normal(15, 5, 600)), np.round(rng.normal(20, 5, 600))
    frames = pl.DataFrame({"x": ref}), pl.DataFrame({"x": cur})
    column = driftloop.detect(*frames).column("x")
    expected = stats.ks_2samp(ref, cur).pvalue
    assert column.p_value < 5e-6  # passes Bonferroni over 10,000 columns
    assert expected / 10 <= column.p_value <= expected * 10
    strict = driftloop.detect(*frames, config={"thresholds": {"ks": 1e-4}}).column("x")
    assert strict.drifted  # a threshold below the old 0.0005 floor can fire


def test_a_quiet_tied_column_keeps_its_monte_carlo_p_value() -> None:
    rng = np.random.default_rng(4)
    ref, cur = rng.poisson(3, 300).astype(float), rng.poisson(3, 300).astype(float)
    column = driftloop.detect(pl.DataFrame({"x": ref}), pl.DataFrame({"x": cur})).column("x")
    assert column.p_value > 0.0025 and column.p_value * 2000 == pytest.approx(
        round(column.p_value * 2000)
    )


def test_holm_matches_its_definition() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=12) ** 3
    adjusted = holm(p)
    order = np.argsort(p)
    expected = np.maximum.accumulate(p[order] * (12 - np.arange(12))).clip(max=1)
    np.testing.assert_allclose(adjusted[order], expected)


def test_the_rate_is_split_over_the_parts_present() -> None:
    weights = {"columns": 0.4, "degradation": 0.2, "segments": 0.15}
    p = plan(0.05, weights, ["columns", "degradation", "segments"], n_columns=4)
    assert sum(p.levels.values()) == pytest.approx(0.05)
    assert p.levels["columns"] == pytest.approx(0.05 * 0.4 / 0.75)
    assert p.degradation_alpha == pytest.approx(p.levels["degradation"] / 20)


def _twelve_columns(rng: np.random.Generator, n: int, shift: float = 0.0) -> pl.DataFrame:
    return pl.DataFrame({f"c{i}": rng.normal(shift if i == 0 else 0, 1, n) for i in range(12)})


def test_no_drift_windows_rarely_make_the_loop_act() -> None:
    rng = np.random.default_rng(8)
    acted = some_column = 0
    for _ in range(60):
        report = driftloop.detect(_twelve_columns(rng, 200), _twelve_columns(rng, 30))
        acted += bool(reasons_to_fire(report, TriggerConfig(features=["c0", "c5"])))
        some_column += bool(report.drifted_columns)
    assert some_column >= 12  # 12 columns at 5% each: some column drifts in ~40% of windows
    assert acted <= 7  # the family: at most 5% (+3 SE of 60 trials)


def test_a_real_shift_survives_the_family_and_is_named() -> None:
    rng = np.random.default_rng(9)
    report = driftloop.detect(_twelve_columns(rng, 500), _twelve_columns(rng, 200, shift=1.0))
    assert report.family is not None and report.family.acted
    assert [f.name for f in report.family.of("columns")] == ["c0"]
    assert reasons_to_fire(report, TriggerConfig(features=["c0"])) == ("drift in c0",)
    assert "The loop acts on" in report.to_markdown() and 'id="family"' in report.to_html()
    again = DriftReport.from_dict(report.to_dict())
    assert again.family == report.family


def test_an_explicit_degradation_alpha_widens_the_bound_and_says_so() -> None:
    rng = np.random.default_rng(10)
    report = driftloop.detect(
        _twelve_columns(rng, 100), _twelve_columns(rng, 50), config={"degradation": {"alpha": 0.01}}
    )
    assert report.family is not None and report.family.bound > 0.05
    assert "degradation.alpha" in (report.family.warning or "")


def test_a_report_without_a_family_keeps_the_old_rule() -> None:
    rng = np.random.default_rng(11)
    report = driftloop.detect(_twelve_columns(rng, 500), _twelve_columns(rng, 200, shift=1.0))
    data = report.to_dict()
    del data["family"]
    data["schema_version"] = "1.5"
    old = DriftReport.from_dict(data)
    assert old.family is None and reasons_to_fire(old, TriggerConfig(features=["c0"]))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"family": {"rate": 0}}, r"detection\.family\.rate' = 0"),
        ({"family": {"rate": 1.5}}, r"detection\.family\.rate' = 1\.5"),
        ({"alpha": 0}, r"detection\.alpha' = 0"),
        ({"family": {"weights": {"columns": 0}}}, r"detection\.family\.weights\.columns"),
    ],
)
def test_bad_family_settings_are_one_line(config: dict[str, object], message: str) -> None:
    frame = pl.DataFrame({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(ConfigError, match=message) as info:
        driftloop.detect(frame, frame, config=config)
    assert "\n" not in str(info.value)
