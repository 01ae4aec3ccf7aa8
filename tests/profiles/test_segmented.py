"""Segmented profiles: detection.segments against a reference profile, and their bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from driftloop.drift.detection import detect as detect_frames
from driftloop.errors import ConfigError, ProfileError
from driftloop.profiles import load_profile, merge_profiles, profile, save_profile
from driftloop.profiles.detection import detect

SEGMENTS = {"segments": [{"column": "region", "min_rows": 30}]}


def rides(rng: np.random.Generator, n: int, *, shifted: str | None = None) -> pl.DataFrame:
    region = rng.choice(["north", "south", "east"], n)
    plan = rng.choice(["day", "month", "year"], n, p=[0.5, 0.3, 0.2])
    if shifted is not None:  # one region's riders move to monthly plans
        where = region == shifted
        plan = np.where(where, rng.choice(["day", "month", "year"], n, p=[0.2, 0.6, 0.2]), plan)
    return pl.DataFrame({"region": region, "plan": plan, "minutes": rng.gamma(2.0, 8.0, n)})


def test_segment_verdicts_from_a_segmented_profile_match_raw_rows_on_counts(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    reference, window = rides(rng, 40_000), rides(rng, 3_000, shifted="east")
    stored = load_profile(save_profile(profile(reference, segment_by=["region"]), tmp_path / "r"))
    from_profile = detect(stored, window, columns=["plan"], config=SEGMENTS)
    from_rows = detect_frames(reference, window, columns=["plan"], config=SEGMENTS)
    verdicts = [
        [(s.value, c.name, c.statistic, c.p_value, c.drifted) for c in s.columns]
        for s in from_profile.segments
    ]
    assert verdicts == [
        [(s.value, c.name, c.statistic, c.p_value, c.drifted) for c in s.columns]
        for s in from_rows.segments
    ]
    assert [s.value for s in from_profile.segments if s.dataset_drift] == ["east"]


def test_a_profile_without_the_segment_column_asked_for_is_one_line() -> None:
    rng = np.random.default_rng(1)
    with pytest.raises(ConfigError, match=r"keeps no segments by it .* --segment-by region"):
        detect(profile(rides(rng, 2_000)), rides(rng, 500), config=SEGMENTS)


def test_profiles_with_different_segment_columns_are_not_merged() -> None:
    rng = np.random.default_rng(2)
    a = profile(rides(rng, 500), segment_by=["region"])
    b = profile(rides(rng, 500), segment_by=["plan"])
    with pytest.raises(ProfileError, match="different segment columns cannot be merged"):
        merge_profiles(a, b)
    merged = merge_profiles(a, profile(rides(rng, 500), segment_by=["region"]))
    values = merged.segment_values("region")
    assert sum(merged.segment("region", v).height for v in values) == 1_000


def test_a_float_or_too_fine_segment_column_is_refused_in_one_line() -> None:
    rng = np.random.default_rng(3)
    frame = rides(rng, 2_000).with_columns(pl.Series("id", np.arange(2_000)))
    with pytest.raises(ConfigError, match="dtype Float64; segments are kept by integer"):
        profile(frame, segment_by=["minutes"])
    with pytest.raises(ConfigError, match="2,000 distinct values; segments need at most 100"):
        profile(frame, segment_by=["id"])
