"""Segment drift: a shift confined to one segment, skips, the FDR adjustment, the JSON section."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import driftloop
from driftloop.data.synthetic import bike_sharing
from driftloop.drift.results import DriftReport
from driftloop.errors import ConfigError, SchemaError

WEATHER = ["temp", "atemp", "hum", "windspeed"]
SEGMENTS = {"fdr": True, "segments": [{"column": "workingday"}]}


def _windows(seed: int, *, shift: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two 365-row resamples of the bike data; ``shift`` moves windspeed +0.5 SD on non-working
    days (about 31% of rows) of the current one."""
    rng = np.random.default_rng(seed)
    data = bike_sharing().select("workingday", *WEATHER)
    ref, cur = (
        data.sample(365, with_replacement=True, seed=int(rng.integers(2**31))) for _ in "rc"
    )
    if shift:
        moved = pl.col("windspeed") + 0.5 * float(data["windspeed"].std())  # type: ignore[arg-type]
        off = pl.col("workingday") == 0
        cur = cur.with_columns(pl.when(off).then(moved).otherwise("windspeed").alias("windspeed"))
    return ref, cur


def _caught(seed: int, *, shift: bool) -> tuple[bool, bool, bool]:
    """(whole data flags windspeed, a segment flags windspeed, any segment finding at all)."""
    ref, cur = _windows(seed, shift=shift)
    report = driftloop.detect(ref, cur, columns=WEATHER, config=SEGMENTS)
    findings = report.segment_findings
    return (
        "windspeed" in report.drifted_columns,
        any(f.startswith("windspeed drifted") for f in findings),
        bool(findings),
    )


def test_a_shift_in_one_segment_is_caught_per_segment_far_more_often() -> None:
    # Measured over 200 splits: whole data 38%, per segment 92%; no-drift findings 2.5%.
    shifted = np.array([_caught(seed, shift=True) for seed in range(40)])
    whole, per_segment = shifted[:, 0].mean(), shifted[:, 1].mean()
    assert per_segment >= 0.8
    assert per_segment - whole >= 0.3
    quiet = np.array([_caught(1000 + seed, shift=False) for seed in range(40)])
    assert quiet[:, 2].mean() <= 0.1  # any segment x feature finding, BH at 5%


def test_the_segment_is_named_and_its_counts_reported() -> None:
    ref, cur = _windows(8, shift=True)
    report = driftloop.detect(ref, cur, columns=WEATHER, config=SEGMENTS)
    off = next(s for s in report.segments if s.value == 0)
    assert (off.n_reference, off.n_current) == (
        ref.filter(pl.col("workingday") == 0).height,
        cur.filter(pl.col("workingday") == 0).height,
    )
    assert "windspeed drifted where workingday = 0" in report.segment_findings
    assert [c.name for c in off.columns] == WEATHER
    assert all(c.p_adjusted is not None for c in off.columns)


def test_a_small_segment_is_skipped_with_its_counts() -> None:
    ref = pl.DataFrame({"g": ["a"] * 200 + ["b"] * 10, "x": np.arange(210.0)})
    cur = pl.DataFrame({"g": ["a"] * 200 + ["b"] * 40, "x": np.arange(240.0)})
    cfg = {"segments": [{"column": "g", "min_rows": 30}]}
    report = driftloop.detect(ref, cur, columns=["x"], config=cfg)
    small = next(s for s in report.segments if s.value == "b")
    assert small.skipped == "too few rows (10 reference, 40 current; min_rows is 30)"
    assert small.columns == () and not small.dataset_drift
    assert next(s for s in report.segments if s.value == "a").skipped is None


def test_the_segment_section_round_trips_and_older_reports_still_read() -> None:
    ref, cur = _windows(3, shift=True)
    report = driftloop.detect(ref, cur, columns=WEATHER, config=SEGMENTS)
    data = report.to_dict()
    assert data["schema_version"] == "1.7"
    assert {"column", "value", "n_reference", "n_current", "skipped", "share_drifted"} <= set(
        data["segments"][0]
    )
    assert DriftReport.from_dict(data).to_dict() == data
    older = {k: v for k, v in data.items() if k != "segments"} | {"schema_version": "1.1"}
    assert DriftReport.from_dict(older).segments == ()
    assert "segments" not in driftloop.detect(ref, cur, columns=WEATHER).to_dict()


def test_a_missing_segment_column_is_one_clear_line() -> None:
    frame = pl.DataFrame({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(SchemaError, match=r"Segment column 'region' is not in the reference"):
        driftloop.detect(frame, frame, config={"segments": [{"column": "region"}]})


def test_a_segment_column_with_too_many_values_is_refused() -> None:
    frame = pl.DataFrame({"id": np.arange(10_000), "x": np.ones(10_000)})
    with pytest.raises(ConfigError, match=r"'id' has 10,000 distinct values; segments need"):
        driftloop.detect(frame, frame, columns=["x"], config={"segments": [{"column": "id"}]})


def test_fdr_adjusts_once_across_every_segment_and_feature() -> None:
    """Two segment columns (2 + 4 segments) x four features: one Benjamini-Hochberg adjustment
    over all 24 p-values, not one per segment or per segment column."""
    from scipy import stats

    ref, cur = _windows(11, shift=True)
    season = bike_sharing().select("season").sample(365, with_replacement=True, seed=1)
    ref, cur = ref.with_columns(season), cur.with_columns(season)
    segments = [{"column": "workingday"}, {"column": "season"}]
    adjusted = driftloop.detect(
        ref, cur, columns=WEATHER, config={"fdr": True, "segments": segments}
    )
    raw = driftloop.detect(ref, cur, columns=WEATHER, config={"segments": segments})
    pairs = [(s, c) for s in raw.segments for c in s.columns]
    assert len(pairs) == (2 + 4) * len(WEATHER)
    expected = stats.false_discovery_control([c.p_value for _, c in pairs], method="bh")
    got = [c.p_adjusted for s in adjusted.segments for c in s.columns]
    np.testing.assert_allclose(got, expected)
    assert [c.drifted for s in adjusted.segments for c in s.columns] == [
        bool(p < c.threshold) for p, (_, c) in zip(expected, pairs, strict=True)
    ]
    # without fdr each pair stands on its own p-value
    assert all(c.p_adjusted is None for _, c in pairs)
    assert [c.drifted for _, c in pairs] == [bool(c.p_value < c.threshold) for _, c in pairs]


def test_segment_findings_leave_the_dataset_verdict_univariate() -> None:
    ref, cur = _windows(8, shift=True)
    plain = driftloop.detect(ref, cur, columns=WEATHER, config={"fdr": True})
    report = driftloop.detect(ref, cur, columns=WEATHER, config=SEGMENTS)
    assert report.segment_findings and not plain.dataset_drift
    assert (report.dataset_drift, report.drifted_columns) == (False, plain.drifted_columns)
    off = report.to_dict()["segments"][0]
    assert set(off) == {
        "column", "value", "n_reference", "n_current", "skipped", "share_drifted",
        "dataset_drift", "columns",
    }  # fmt: skip
    top = report.to_dict()["columns"][0]
    assert set(off["columns"][0]) == set(top)  # the same shape as the top-level columns
