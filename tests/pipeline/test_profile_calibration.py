"""Calibration with a profile reference: windows drawn from the profile, rates that hold."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.drift.calibrate import calibrate_drawn
from driftloop.profiles import profile
from driftloop.profiles.detection import detect
from driftloop.profiles.sampling import Sampler

from .conftest import write_config

QUIET = {"retrain": False, "alert": False}


def population(rows: int, rng: np.random.Generator) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "skewed": rng.lognormal(0.0, 0.8, rows),
            "heavy": rng.standard_t(3, rows),
            "kind": rng.choice(["a", "b", "c", "d"], rows, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )


def test_windows_drawn_from_a_profile_predict_fresh_windows_of_the_population() -> None:
    rng = np.random.default_rng(11)
    reference = profile(population(300_000, rng))
    target = 0.1
    c = calibrate_drawn(
        reference,
        Sampler(reference).draw,
        window_rows=2_000,
        target_rate=target,
        simulations=300,
        seed=3,
        detector=detect,
    )
    by_name = {col.name: col for col in c.columns}
    assert by_name["skewed"].method == "wasserstein"  # a distance: its threshold is fitted
    assert by_name["skewed"].proposed_threshold < by_name["skewed"].current_threshold
    hits = 0
    for _ in range(200):  # never drawn from the profile: from the population itself
        report = detect(reference, population(2_000, rng), config={"columns": c.thresholds()})
        hits += any(col.drifted for col in report.columns)
    assert hits / 200 <= target + 0.05
    assert abs(hits / 200 - c.any_rate_proposed) <= 0.06  # what calibrate printed held


def write_reference(bikes: pl.DataFrame, path: Path, rows: int) -> Path:
    index = np.random.default_rng(0).integers(0, bikes.height, rows)
    bikes[index.tolist()].write_parquet(path)
    return path


def test_cli_calibrates_a_stored_profile_pipeline(make_pipeline, bikes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = write_reference(bikes, tmp_path / "reference.parquet", 5_000)
    reference = {"uri": str(source), "profile": str(tmp_path / "reference.profile")}
    config = make_pipeline(on_drift=QUIET, reference=reference, seed=False)
    path = write_config(config, tmp_path / "driftloop.yaml")
    args = ["calibrate", "--config", str(path), "--simulations", "40", "--window-rows", "31"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "per window of 31 rows" in done.output and "any-feature false alarms" in done.output
    assert (tmp_path / "reference.profile").exists()  # built by calibrate, reused by runs

    calibration = Path(config.stores.runs) / "calibration"
    shutil.rmtree(calibration)
    small = CliRunner().invoke(app, [*args[:-1], "51"])
    assert small.exit_code == 2
    assert not calibration.exists()  # refused: nothing written
    assert small.output.strip().splitlines() == [
        "error: calibrate with a profile reference needs it 100x larger than a window (so its "
        "own sampling noise is negligible); it has 5000 rows for windows of 51. Calibrate "
        "smaller windows (--window-rows), or remove reference.profile to calibrate on the "
        "reference's rows."
    ]
    pooled = CliRunner().invoke(app, [*args, "--history"])
    assert pooled.exit_code == 2
    assert pooled.output.strip().splitlines() == [
        "error: --history pools past windows' rows with the reference's, and reference.profile "
        "has no rows to pool: calibrate without --history."
    ]
