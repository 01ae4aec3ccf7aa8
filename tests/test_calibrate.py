"""Calibration: proposed thresholds meet the target false-alarm rate; replay; --write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.data.synthetic import bike_sharing
from driftloop.data.warehouse import Warehouse
from driftloop.demo import DEMO_COLUMNS, month
from driftloop.drift.calibrate import calibrate
from driftloop.errors import DataError
from driftloop.pipeline.calibration import run_calibration
from driftloop.pipeline.runner import Runner
from tests.pipeline.conftest import bikes, make_pipeline, write_config

__all__ = ["bikes", "make_pipeline"]


def test_proposed_thresholds_meet_the_target_on_fresh_no_drift_windows() -> None:
    year = bike_sharing().filter(pl.col("yr") == 0)
    target = 1 / 13
    c = calibrate(
        year,
        window_rows=31,
        reference_rows=31,
        columns=DEMO_COLUMNS,
        target_rate=target,
        simulations=300,
        seed=1,
    )
    assert c.any_rate_current > 2 * target  # twelve features at 0.05 each page far too often
    assert c.any_rate_proposed <= target + 0.02
    # judged on windows the calibration never saw
    check = calibrate(
        year,
        window_rows=31,
        reference_rows=31,
        columns=DEMO_COLUMNS,
        target_rate=target,
        simulations=300,
        seed=2,
        settings={"columns": c.thresholds()},
    )
    assert check.any_rate_current <= target + 0.04
    assert {col.name for col in c.columns} == set(DEMO_COLUMNS)


def test_progress_counts_every_simulated_window() -> None:
    year = bike_sharing().filter(pl.col("yr") == 0)
    calls: list[tuple[int, int]] = []
    calibrate(
        year,
        window_rows=31,
        reference_rows=31,
        columns=["temp", "hum"],
        simulations=20,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(i, 20) for i in range(1, 21)]


def test_too_small_a_pool() -> None:
    with pytest.raises(
        DataError,
        match=r"^Too few rows to calibrate windows of 31 rows: the pool has 20\. Add history",
    ):
        calibrate(bike_sharing().head(20), window_rows=31, reference_rows=20)


def test_cli_calibrate_replays_and_writes(make_pipeline, tmp_path) -> None:
    config = make_pipeline(on_drift={"retrain": False, "alert": False})
    for number in (2, 3, 4):
        Runner(config).run(start=month(2011, number)[0], end=month(2011, number)[1])
    path = write_config(config, tmp_path / "driftloop.yaml")
    result = CliRunner().invoke(
        app, ["calibrate", "--config", str(path), "--simulations", "100", "--history", "--write"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "any-feature false alarms" in result.output
        and "2011-03-01..2011-03-31  now DRIFT" in result.output
    )
    written = yaml.safe_load(path.read_text())["detection"]["columns"]
    assert written["season"]["kind"] == "categorical" and "threshold" in written["temp"]
    assert (tmp_path / "driftloop.yaml.bak").exists()
    assert (tmp_path / "reports" / "bike-sharing" / "calibration.html").read_text().count(
        "<tr>"
    ) > 12
    # small windows with the default settings: discrete p-values, a column with one value in the
    # January reference and three later (was: a pydantic traceback, then a ztest that broke)
    fresh = write_config(config, tmp_path / "fresh.yaml")
    small = CliRunner().invoke(
        app, ["calibrate", "--config", str(fresh), "--simulations", "60", "--window-rows", "10"]
    )
    assert small.exit_code == 0, small.output
    assert "Traceback" not in small.output and "now DRIFT" in small.output


def test_p_value_thresholds_are_exact_and_constant_columns_are_left_alone() -> None:
    data = bike_sharing()
    january = data.filter((pl.col("mnth") == 1) & (pl.col("yr") == 0)).drop("instant", "dteday")
    c = calibrate(january, window_rows=7, reference_rows=24, simulations=60, target_rate=0.1)
    by_name = {col.name: col for col in c.columns}
    # season, yr and mnth hold one value in January: reported, not calibrated, not written
    for name in ("season", "yr", "mnth"):
        assert by_name[name].note.startswith("constant in the pool")
        assert name not in c.thresholds()
    tested = [col for col in c.columns if col.calibrated]
    # one share for every column, fitted jointly: at least the union bound's 0.1 / n (which
    # the correlated bike columns undershoot), at most the whole target
    shares = {col.proposed_threshold for col in tested if col.family == "p_value"}
    assert len(shares) == 1
    assert 0.1 / len(tested) <= shares.pop() <= 0.1


def test_write_keeps_the_files_comments_and_layout(tmp_path) -> None:
    from driftloop.pipeline.calibration import write_thresholds

    path = tmp_path / "driftloop.yaml"
    path.write_text(
        "# the team's pipeline\n"
        "pipeline: bikes  # weekly\n"
        "detection:\n"
        "  drift_share: 0.5  # half the features\n"
        "  columns:\n"
        "    temp: {kind: numerical}\n"
    )
    c = calibrate(
        bike_sharing().drop("instant", "dteday"),
        window_rows=30,
        reference_rows=200,
        columns=["temp", "hum"],
        simulations=20,
    )
    write_thresholds(path, c)
    text = path.read_text()
    assert text.startswith("# the team's pipeline\npipeline: bikes  # weekly\n")
    assert "drift_share: 0.5  # half the features" in text
    written = yaml.safe_load(text)["detection"]["columns"]
    assert written["temp"]["kind"] == "numerical" and "threshold" in written["temp"]
    assert set(written) == {"temp", "hum"}


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("target_rate", 1.5, r"^target_rate must be in \(0, 1\), e\.g\. 1/13\. Got 1\.5\.$"),
        ("simulations", 0, r"^simulations must be at least 20 \(two halves of 10\)\. Got 0\.$"),
        ("reference_rows", 1, r"^reference_rows must be at least 2\. Got 1\.$"),
    ],
)
def test_calibrate_settings_out_of_range_get_one_line(
    setting: str, value: float, message: str
) -> None:
    from driftloop.errors import ConfigError, DriftloopError

    kwargs = {"window_rows": 7, "reference_rows": 100} | {setting: value}
    with pytest.raises((ConfigError, DriftloopError), match=message):
        calibrate(bike_sharing(), **kwargs)  # type: ignore[arg-type]


def test_a_column_null_in_some_simulated_windows_does_not_crash() -> None:
    rng = np.random.default_rng(0)
    mostly_null = np.where(rng.random(200) < 0.9, np.nan, rng.normal(size=200))
    pool = pl.DataFrame({"x": rng.normal(size=200), "m": mostly_null}).with_columns(
        pl.col("m").fill_nan(None)
    )
    c = calibrate(pool, window_rows=5, reference_rows=100, simulations=40)
    assert {col.name for col in c.columns} == {"x", "m"}


def test_calibrate_takes_a_relative_baseline_from_the_latest_window(make_pipeline, bikes) -> None:
    config = make_pipeline(on_drift={"retrain": False, "alert": False})
    url = config.stores.warehouse.get_secret_value()
    Warehouse(url).seed(bikes, table="history", if_exists="replace")
    source = {"url": url, "table": "history", "date_column": "dteday"}
    trailing = {**source, "baseline": {"type": "trailing", "days": 28}}
    config = make_pipeline(
        seed=False, on_drift={"retrain": False, "alert": False}, reference=trailing
    )
    for number in (2, 3):
        Runner(config).run(start=month(2011, number)[0], end=month(2011, number)[1])
    result = run_calibration(
        config, window_rows=7, target_rate=0.1, simulations=40, use_history=False
    )
    assert result.calibration.reference_rows == 28 - 7  # the pool is February's 28 days
    read = pl.read_parquet(Path(config.stores.runs) / "calibration" / "reference.parquet")
    days = read["dteday"].cast(pl.String).str.slice(0, 10)
    assert (days.min(), days.max(), read.height) == ("2011-02-01", "2011-02-28", 28)


def test_calibrate_replays_each_window_against_its_own_baseline(
    make_pipeline, bikes, tmp_path
) -> None:
    from driftloop.drift import detect

    config = make_pipeline(on_drift={"retrain": False, "alert": False})
    url = config.stores.warehouse.get_secret_value()
    Warehouse(url).seed(bikes, table="history", if_exists="replace")
    source = {"url": url, "table": "history", "date_column": "dteday"}
    for number in (2, 3, 4):
        Runner(config).run(start=month(2011, number)[0], end=month(2011, number)[1])
    trailing = make_pipeline(
        seed=False,
        on_drift={"retrain": False, "alert": False},
        reference={**source, "baseline": {"type": "trailing", "days": 28}},
    )
    result = run_calibration(
        trailing, window_rows=7, target_rate=0.1, simulations=40, use_history=False
    )
    spans = [(r["reference_start"], r["reference_end"], r["reference_rows"]) for r in result.replay]
    assert spans == [
        ("2011-01-04", "2011-01-31", 28),
        ("2011-02-01", "2011-02-28", 28),
        ("2011-03-04", "2011-03-31", 28),
    ]
    # the verdicts are those of each window against its own 28 days, not against the last ones
    march = bikes.filter(pl.col("dteday").cast(pl.String).str.starts_with("2011-03"))
    february = bikes.filter(pl.col("dteday").cast(pl.String).str.starts_with("2011-02"))
    own = detect(february, march, columns=trailing.columns, config=trailing.detection)
    assert result.replay[1]["current_drifted"] == own.drifted_columns
    assert result.replay[1]["current_share"] == own.share_drifted

    # the first year of a same_period baseline has nothing to compare with: skipped, not fatal
    for number in (2, 3):
        Runner(config).run(start=month(2012, number)[0], end=month(2012, number)[1])
    yearly = make_pipeline(
        seed=False,
        on_drift={"retrain": False, "alert": False},
        reference={**source, "baseline": {"type": "same_period", "years": 1}},
    )
    result = run_calibration(
        yearly, window_rows=7, target_rate=0.1, simulations=40, use_history=False
    )
    by_start = {r["window_start"][:10]: r for r in result.replay}
    assert by_start["2011-02-01"]["skipped"].startswith(
        "The same_period reference baseline has no rows"
    )
    assert by_start["2012-03-01"]["skipped"] is None
    assert (
        by_start["2012-03-01"]["reference_start"],
        by_start["2012-03-01"]["reference_rows"],
    ) == (
        "2011-03-01",
        31,
    )
    html = result.report_html.read_text()
    assert "skipped: The same_period reference baseline has no rows" in html
    assert "2011-03-01..2011-03-31, 31 rows" in html
    path = write_config(yearly, tmp_path / "yearly.yaml")
    shown = CliRunner().invoke(
        app, ["calibrate", "--config", str(path), "--simulations", "40", "--window-rows", "7"]
    )
    assert shown.exit_code == 0, shown.output
    assert "skipped: The same_period reference baseline has no rows in its window(s) 2010-02" in (
        " ".join(shown.output.split())
    )
