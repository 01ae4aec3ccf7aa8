"""``driftloop profile build`` on files, globs and folders; ``driftloop detect`` reads profiles."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

import driftloop
from driftloop.cli import app
from driftloop.profiles import load_profile, profile

from .test_merge import assert_same


@pytest.fixture()
def source(tmp_path: Path) -> tuple[Path, pl.DataFrame]:
    rng = np.random.default_rng(2)
    n = 20_000
    day0 = dt.date(2026, 1, 1)
    frame = pl.DataFrame(
        {
            "day": pl.date_range(day0, day0 + dt.timedelta(days=n - 1), eager=True),
            "x": rng.normal(size=n),
            "k": rng.poisson(2, size=n),
            "c": rng.choice(["a", "b", "c"], size=n),
        }
    )
    folder = tmp_path / "data"
    folder.mkdir()
    frame.head(12_000).write_parquet(folder / "part-0.parquet", row_group_size=3_000)
    frame.tail(8_000).write_parquet(folder / "part-1.parquet")
    return folder, frame


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_a_folder_profiles_like_the_whole_frame(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, frame = source
    code, output = run("profile", "build", str(folder), "--out", str(tmp_path / "ref.profile"))
    assert code == 0, output
    built, whole = load_profile(tmp_path / "ref.profile"), profile(frame)
    assert built.height == 20_000
    assert_same(built, whole)  # counts, extremes, categories exact; moments to rounding


def test_the_window_is_pushed_down_and_globs_work(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, frame = source
    out = tmp_path / "feb.profile"
    code, output = run(
        "profile", "build", f"{folder}/*.parquet", "--out", str(out),
        "--date-column", "day", "--start", "2026-02-01", "--end", "2026-03-01",
    )  # fmt: skip
    assert code == 0, output
    window = frame.filter(
        pl.col("day").is_between(dt.date(2026, 2, 1), dt.date(2026, 3, 1), "left")
    )
    assert_same(load_profile(out), profile(window))


def test_detect_reads_a_profile_file_as_reference(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, frame = source
    ref_file, cur_file = tmp_path / "ref.profile", tmp_path / "cur.csv"
    assert run("profile", "build", str(folder), "--out", str(ref_file))[0] == 0
    current = frame.tail(3_000).with_columns(pl.col("x") + 1)
    current.write_csv(cur_file)
    code, output = run("detect", str(ref_file), str(cur_file), "--json", str(tmp_path / "r.json"))
    assert code == 0, output
    report = json.loads((tmp_path / "r.json").read_text())
    expected = driftloop.detect(profile(frame), pl.read_csv(cur_file, try_parse_dates=True))
    drifted = sorted(c["name"] for c in report["columns"] if c["drifted"])
    assert drifted == expected.drifted_columns and "x" in drifted


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nothere"], "Source nothere does not exist"),
        (["{folder}", "--date-column", "nope"], "Date column 'nope' is not in"),
        (["{folder}", "--date-column", "x"], "Date column 'x' in .* has type double"),
        (["{folder}", "--start", "2026-01-01"], "--start and --end need --date-column"),
        (["{folder}", "--date-column", "day", "--start", "Jan"], "--start"),
        (["{folder}", "--date-column", "day", "--start", "2100-01-01"], "has no rows in"),
    ],
    ids=["missing", "no date column", "not a date", "no column", "bad date", "empty window"],
)
def test_bad_input_is_one_line_and_writes_nothing(source, tmp_path: Path, args, message) -> None:  # type: ignore[no-untyped-def]
    import re

    folder, _ = source
    out = tmp_path / "ref.profile"
    given = [a.replace("{folder}", str(folder)) for a in args]
    code, output = run("profile", "build", *given, "--out", str(out))
    assert code == 2 and re.search(message, output), output
    assert len(output.strip().splitlines()) == 1 and "Traceback" not in output
    assert not out.exists() and not list(tmp_path.glob(".*partial"))


def test_profile_merge_joins_parts_into_the_whole(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, frame = source
    parts = [tmp_path / "a.profile", tmp_path / "b.profile"]
    for part, name in zip(parts, ("part-0.parquet", "part-1.parquet"), strict=True):
        assert run("profile", "build", str(folder / name), "--out", str(part))[0] == 0
    merged = tmp_path / "all.profile"
    code, output = run("profile", "merge", *map(str, parts), "--out", str(merged))
    assert code == 0, output
    assert f"profile: 20,000 rows x 4 columns from 2 files -> {merged}" in output
    assert_same(load_profile(merged), profile(frame))

    one = run("profile", "merge", str(parts[0]), "--out", str(tmp_path / "one.profile"))
    assert one == (2, "error: Pass two or more profile files to merge; got 1.\n")
    other = tmp_path / "other.profile"
    driftloop.save_profile(profile(frame.with_columns(pl.col("x").cast(pl.String))), other)
    code, output = run("profile", "merge", str(parts[0]), str(other), "--out", str(tmp_path / "x"))
    assert code == 2 and len(output.strip().splitlines()) == 1 and "'x'" in output
    assert not (tmp_path / "x").exists() and not (tmp_path / "one.profile").exists()


def test_profile_show_prints_each_column_and_json(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, frame = source
    path = tmp_path / "ref.profile"
    assert run("profile", "build", str(folder), "--out", str(path))[0] == 0
    code, output = run("profile", "show", str(path))
    assert code == 0, output
    assert output.startswith(f"{path}: 20,000 rows x 4 columns")
    assert "quantile sketch (rank error 0.0027)" in output  # x: 20,000 distinct values
    counts = frame["c"].value_counts(sort=True)
    assert f"3 categories; top: {counts['c'][0]} {counts['count'][0]:,}" in output
    code, text = run("profile", "show", str(path), "--json")
    shown = json.loads(text)
    assert shown["rows"] == 20_000 and shown["profile"]["format"] == 1
    x = next(c for c in shown["columns"] if c["name"] == "x")["summary"]
    assert x["mean"] == pytest.approx(frame["x"].mean()) and x["max"] == frame["x"].max()
    assert abs(x["p50"] - frame["x"].median()) < 0.05
    assert run("profile", "show", str(folder / "part-0.parquet"))[0] == 2
