"""Bad profiles and a missing Spark or Java on the command line: one clear line each, exit code 2,
no report or profile written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.profiles import load_profile, profile, save_profile


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(4)
    frame = pl.DataFrame({"x": rng.normal(size=20_000), "c": rng.choice(list("abc"), 20_000)})
    frame.tail(5_000).write_csv(tmp_path / "cur.csv")
    return save_profile(profile(frame), tmp_path / "ref.profile"), tmp_path / "cur.csv"


def rewrite(
    path: Path,
    *,
    meta: bytes | None = None,
    count_delta: int = 0,
    sample: bytes | None = None,
    drop_sample: bool = False,
) -> None:
    """Rewrite a profile file as another tool or version might have: metadata, counts or the
    row sample changed (the other metadata kept)."""
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0]["count"] += count_delta
    if sample is not None or drop_sample:
        rows[0]["sample"] = sample
    out = pa.Table.from_pylist(rows, schema=table.schema)
    key = b"driftloop.profile"
    pq.write_table(out.replace_schema_metadata({key: meta or table.schema.metadata[key]}), path)


def damaged_sample(path: Path) -> None:
    data = bytearray(pq.read_table(path).column("sample")[0].as_py())
    data[len(data) // 2] ^= 0xFF
    rewrite(path, sample=bytes(data))


def other_format(path: Path) -> None:
    meta = json.loads(pq.read_schema(path).metadata[b"driftloop.profile"])
    rewrite(path, meta=json.dumps(meta | {"format": 2, "driftloop": "3.0.0"}).encode())


def flipped(path: Path) -> None:
    """Bytes flipped in the data pages (before the footer, whose length the file ends with)."""
    data = bytearray(path.read_bytes())
    pages_end = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    for i in range(pages_end // 3, pages_end // 3 + 8):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


BREAKS = {
    "other format": (other_format, r"has format 2 \(driftloop 3.0.0\); this driftloop reads"),
    "truncated": (
        lambda p: p.write_bytes(p.read_bytes()[:-200]),
        "is not a readable Parquet file \\(corrupt or truncated\\)",
    ),
    "flipped bytes": (flipped, "corrupt or truncated"),
    "metadata not JSON": (lambda p: rewrite(p, meta=b"{oops"), "has unreadable metadata"),
    "counts disagree": (
        lambda p: rewrite(p, count_delta=7),
        "unreadable column entries \\(column 'x' counts 20007 values of 20000 rows\\)",
    ),
    "row sample damaged": (damaged_sample, "has a damaged row sample \\(its checksum"),
    "row sample missing": (
        lambda p: rewrite(p, drop_sample=True),
        "names a row sample it does not hold",
    ),
}


def one_line(code: int, output: str, pattern: str) -> None:
    import re

    assert code == 2, output
    assert len(output.strip().splitlines()) == 1 and "Traceback" not in output, output
    assert re.search(pattern, output), output


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_a_bad_profile_is_one_line_and_no_report(files, case: str) -> None:  # type: ignore[no-untyped-def]
    ref, cur = files
    damage, pattern = BREAKS[case]
    damage(ref)
    report = ref.with_name("report.json")
    result = CliRunner().invoke(app, ["detect", str(ref), str(cur), "--json", str(report)])
    one_line(result.exit_code, result.output, pattern)
    assert not report.exists()


def test_a_column_missing_from_the_profile_is_one_line(files) -> None:  # type: ignore[no-untyped-def]
    ref, cur = files
    report = ref.with_name("report.json")
    result = CliRunner().invoke(
        app, ["detect", str(ref), str(cur), "--columns", "x,nope", "--json", str(report)]
    )
    one_line(result.exit_code, result.output, "Column 'nope' is not in the reference data")
    assert not report.exists()


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_profile_show_and_merge_say_the_same_one_line(files, case: str) -> None:  # type: ignore[no-untyped-def]
    ref, _ = files
    good = save_profile(load_profile(ref), ref.with_name("good.profile"))
    damage, pattern = BREAKS[case]
    damage(ref)
    shown = CliRunner().invoke(app, ["profile", "show", str(ref)])
    one_line(shown.exit_code, shown.output, pattern)
    merged = ref.with_name("merged.profile")
    done = CliRunner().invoke(app, ["profile", "merge", str(good), str(ref), "--out", str(merged)])
    one_line(done.exit_code, done.output, pattern)
    assert not merged.exists()


def test_a_folder_named_as_a_profile_is_one_line(files) -> None:  # type: ignore[no-untyped-def]
    """Arrow reads a folder as a dataset of its Parquet files: it once said 'unreadable column
    entries (None is not a valid DtypeFamily)'."""
    ref, _ = files
    pl.DataFrame({"x": [1.0]}).write_parquet(ref.with_name("data.parquet"))
    shown = CliRunner().invoke(app, ["profile", "show", str(ref.parent)])
    one_line(shown.exit_code, shown.output, "is a folder. Name a profile file.")


def spark_build(tmp_path: Path, env: dict[str, str]) -> tuple[int, str, Path]:
    """``driftloop profile build --engine spark`` in a child process with ``env``."""
    data = tmp_path / "data.parquet"
    pl.DataFrame({"x": [1.0, 2.0]}).write_parquet(data)
    out = tmp_path / "ref.profile"
    command = [sys.executable, "-m", "driftloop", "profile", "build", str(data), "--out", str(out)]
    ran = subprocess.run(
        [*command, "--engine", "spark"], env=env, capture_output=True, text=True, timeout=300
    )
    return ran.returncode, ran.stdout + ran.stderr, out


def bare_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "PATH")}
    return env | extra


def test_no_java_on_the_path_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    code, output, out = spark_build(tmp_path, bare_env(PATH=str(empty)))
    one_line(code, output, r"Spark needs Java 17\+ and finds no java in the PATH")
    assert not out.exists()


def test_a_java_home_without_java_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "jdk"
    code, output, out = spark_build(tmp_path, bare_env(JAVA_HOME=str(home), PATH="/usr/bin:/bin"))
    one_line(code, output, f"finds no java in JAVA_HOME={home}")
    assert not out.exists()


def test_an_old_java_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    java = folder / "java"
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.22\" 2024-01-16' >&2\n")
    java.chmod(0o755)
    code, output, out = spark_build(tmp_path, bare_env(PATH=f"{folder}:/usr/bin:/bin"))
    one_line(code, output, r"Spark needs Java 17\+; the PATH gives Java 11")
    assert not out.exists()


def test_merge_out_onto_a_pipe_is_refused_and_through_a_link_writes_the_target(files) -> None:  # type: ignore[no-untyped-def]
    """The profile is written beside its path and renamed over it: a device or a pipe there was
    replaced by a regular file, a symbolic link by the file (found by a red-team run)."""
    import os

    ref, _ = files
    twin = save_profile(load_profile(ref), ref.with_name("twin.profile"))
    pipe = ref.with_name("pipe.profile")
    os.mkfifo(pipe)
    done = CliRunner().invoke(app, ["profile", "merge", str(ref), str(twin), "--out", str(pipe)])
    one_line(done.exit_code, done.output, "it is not a regular file. Name a file.")
    assert pipe.is_fifo()
    target, link = ref.with_name("target.profile"), ref.with_name("link.profile")
    target.write_bytes(b"")
    link.symlink_to(target)
    done = CliRunner().invoke(app, ["profile", "merge", str(ref), str(twin), "--out", str(link)])
    assert done.exit_code == 0, done.output
    assert link.is_symlink() and load_profile(target).height == 2 * load_profile(ref).height
    twice = CliRunner().invoke(app, ["profile", "merge", str(ref), str(ref), "--out", str(pipe)])
    one_line(twice.exit_code, twice.output, "is named twice: its rows would count twice")
