"""``profile build --segment-by``: segments built in the same pass by worker processes, from SQL,
and kept by a pipeline's stored reference profile when ``detection.segments`` asks for them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.profiles import load_profile, profile
from driftloop.profiles.dataset import Profile

from .test_merge import assert_same


@pytest.fixture()
def rides(tmp_path: Path) -> tuple[Path, pl.DataFrame]:
    rng = np.random.default_rng(5)
    n = 24_000
    day0 = dt.date(2026, 1, 1)
    frame = pl.DataFrame(
        {
            "day": pl.date_range(day0, day0 + dt.timedelta(days=n - 1), eager=True),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "minutes": rng.gamma(2.0, 8.0, n),
            "plan": rng.choice(["day", "month", "year"], n),
            "riders": rng.poisson(3, n),
        }
    )
    folder = tmp_path / "data"
    folder.mkdir()
    frame.head(16_000).write_parquet(folder / "part-0.parquet", row_group_size=2_000)
    frame.tail(8_000).write_parquet(folder / "part-1.parquet", row_group_size=4_000)
    return folder, frame


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def assert_same_segments(built: Profile, whole: Profile, column: str) -> None:
    assert built.segment_values(column) == whole.segment_values(column)
    for value in whole.segment_values(column):
        assert_same(built.segment(column, value), whole.segment(column, value))


def test_worker_processes_build_the_segments_of_the_whole(rides, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, frame = rides
    out = tmp_path / "ref.profile"
    args = ["--segment-by", "region", "--segment-by", "plan", "--workers", "2"]
    code, output = run("profile", "build", str(folder), "--out", str(out), *args)
    assert code == 0, output
    assert "4 segments of region; 3 segments of plan" in output
    built, whole = load_profile(out), profile(frame, segment_by=["region", "plan"])
    assert_same(built, whole)
    assert_same_segments(built, whole, "region")
    assert_same_segments(built, whole, "plan")
    assert built.sample is not None and whole.sample is not None
    assert built.sample.rows().equals(whole.sample.rows())  # the row sample merges exactly


def test_a_windowed_build_keeps_the_window_s_segments(rides, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, frame = rides
    out = tmp_path / "ref.profile"
    window = ["--date-column", "day", "--start", "2040-01-01", "--end", "2070-01-01"]
    code, output = run(
        "profile", "build", str(folder), "--out", str(out), "--segment-by", "region", *window
    )
    assert code == 0, output
    inside = frame.filter(pl.col("day").is_between(dt.date(2040, 1, 1), dt.date(2069, 12, 31)))
    assert_same_segments(load_profile(out), profile(inside, segment_by=["region"]), "region")


def test_a_database_table_builds_its_segments(rides, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from driftloop.data.warehouse import Warehouse

    _, frame = rides
    url = f"sqlite:///{tmp_path / 'rides.db'}"
    Warehouse(url).seed(frame.head(5_000), table="rides", if_exists="replace")
    out = tmp_path / "ref.profile"
    code, output = run(
        "profile", "build", url, "--table", "rides", "--out", str(out), "--segment-by", "plan"
    )
    assert code == 0, output
    built = load_profile(out)
    whole = profile(Warehouse(url).read("rides"), segment_by=["plan"])
    assert [built.segment("plan", v).height for v in built.segment_values("plan")] == [
        whole.segment("plan", v).height for v in whole.segment_values("plan")
    ]
    for value in whole.segment_values("plan"):
        assert built.segment("plan", value).column("riders").labels == (
            whole.segment("plan", value).column("riders").labels
        )


@pytest.mark.parametrize("database", [False, True])
def test_a_segment_column_not_in_the_source_is_one_line_before_any_row(
    rides, tmp_path: Path, database: bool
) -> None:  # type: ignore[no-untyped-def]
    from driftloop.data.warehouse import Warehouse

    folder, frame = rides
    source = [str(folder)]
    if database:
        url = f"sqlite:///{tmp_path / 'rides.db'}"
        Warehouse(url).seed(frame.head(100), table="rides", if_exists="replace")
        source = [url, "--table", "rides"]
    out = tmp_path / "ref.profile"
    code, output = run("profile", "build", *source, "--out", str(out), "--segment-by", "zone")
    assert code == 2 and not out.exists()
    assert len(output.strip().splitlines()) == 1
    assert output.startswith("error: Segment column 'zone' is not in ")
    assert "region" in output and output.rstrip().endswith("Fix --segment-by.")


def test_a_segment_column_named_twice_is_one_line(rides, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, _ = rides
    out = tmp_path / "ref.profile"
    twice = ["--segment-by", "plan", "--segment-by", "plan"]
    code, output = run("profile", "build", str(folder), "--out", str(out), *twice)
    assert code == 2 and not out.exists()
    assert output.strip() == (
        "error: segment_by names a column twice: ['plan', 'plan']. Name each once."
    )
