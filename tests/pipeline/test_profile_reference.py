"""A pipeline whose reference is a profile file (``reference: {profile: PATH}``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftloop.config import load_config
from driftloop.data.sources import filter_window
from driftloop.demo import demo_config, month
from driftloop.errors import ConfigError
from driftloop.pipeline.runner import Runner
from driftloop.profiles import profile, save_profile

MAR = month(2011, 3)
QUIET = {"retrain": False, "alert": False}


def test_a_profile_reference_gives_the_data_references_verdict(
    make_pipeline, bikes, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from_data = Runner(make_pipeline(on_drift=QUIET)).run(start=MAR[0], end=MAR[1])
    january = filter_window(bikes, "dteday", *month(2011, 1))
    path = save_profile(profile(january), tmp_path / "reference.profile")
    config = make_pipeline(on_drift=QUIET, reference={"profile": str(path)}, seed=False)
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "succeeded", outcome
    assert outcome.verdict.dataset_drift == from_data.verdict.dataset_drift
    assert outcome.verdict.drifted == from_data.verdict.drifted
    assert outcome.results["fetch_reference"].rows == january.height


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"reference": {"profile": "r.profile", "table": "reference"}},
            "a given profile file stands alone: remove 'table'",
        ),
        ({"current": {"profile": "c.profile"}}, "current.profile: the window is read from data"),
        (
            {"reference": {"profile": "r.profile"}},
            "on_drift.retrain trains on the reference's rows",
        ),
    ],
    ids=["with table", "current side", "retrain"],
)
def test_profile_sources_are_checked(tmp_path: Path, change, message) -> None:  # type: ignore[no-untyped-def]
    raw = demo_config(tmp_path) | change
    with pytest.raises(ConfigError, match=message):
        load_config(raw)


def test_a_bad_profile_file_fails_the_fetch_step_in_one_line(make_pipeline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.profile"
    bad.write_bytes(b"not parquet")
    config = make_pipeline(on_drift=QUIET, reference={"profile": str(bad)}, seed=False)
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "failed"
    assert "is not a readable Parquet file" in str(outcome.error)
