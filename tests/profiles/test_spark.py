"""driftloop.spark.profile on a real local[2] Spark: equal to the local build of the same rows."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.profiles import load_profile, profile

from .test_merge import assert_same


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # executors import this venv's driftloop
    session = (
        SparkSession.builder.master("local[2]")
        .appName("driftloop-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


def frame(rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(9)
    return pl.DataFrame(
        {
            "x": rng.normal(size=rows),
            "k": rng.poisson(3, size=rows),
            "c": rng.choice(["a", "b", "c", "d"], size=rows),
            "flag": rng.integers(0, 2, size=rows) == 1,
        }
    ).with_columns(
        pl.when(pl.int_range(rows) % 50 == 0).then(None).otherwise(pl.col("x")).alias("x")
    )


def test_a_spark_dataframe_profiles_like_the_local_build(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from driftloop import spark as driftloop_spark

    local = frame(30_000)
    path = tmp_path / "data.parquet"
    local.write_parquet(path)
    df = spark.read.parquet(str(path)).repartition(4)
    built = driftloop_spark.profile(df)
    assert_same(built, profile(local))
    assert built.column("x").rank_error > 0  # sketched: 30k values


def test_profile_build_engine_spark(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    local = frame(5_000)
    path = tmp_path / "data.parquet"
    local.write_parquet(path)
    out = tmp_path / "ref.profile"
    result = CliRunner().invoke(
        app, ["profile", "build", str(path), "--out", str(out), "--engine", "spark"]
    )
    assert result.exit_code == 0, result.output
    assert_same(load_profile(out), profile(local))


def test_without_pyspark_or_java_is_one_line(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from driftloop import spark as driftloop_spark
    from driftloop.errors import ConfigError

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(ConfigError, match=r"^Spark needs Java 17\+"):
        driftloop_spark._local_session()
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if PySpark were not installed
    out = tmp_path / "ref.profile"
    result = CliRunner().invoke(
        app, ["profile", "build", str(tmp_path), "--out", str(out), "--engine", "spark"]
    )
    assert result.exit_code == 2 and not out.exists()
    assert result.output.strip() == (
        "error: Spark profiles need PySpark: pip install 'driftloop[spark]' (and Java 17+)."
    )


def test_spark_keeps_segments_and_the_row_sample_of_the_local_build(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from driftloop import spark as driftloop_spark
    from driftloop.profiles.options import ProfileOptions

    local = frame(20_000)
    path = tmp_path / "data.parquet"
    local.write_parquet(path)
    df = spark.read.parquet(str(path)).repartition(3)
    built = driftloop_spark.profile(df, ProfileOptions(segment_by=("c", "flag")))
    whole = profile(local, segment_by=["c", "flag"])
    for column in ("c", "flag"):
        assert built.segment_values(column) == whole.segment_values(column)
        for value in whole.segment_values(column):
            assert_same(built.segment(column, value), whole.segment(column, value))
    assert built.sample is not None and whole.sample is not None
    assert sorted(built.sample.rows()["x"].drop_nulls().to_list()) == sorted(
        whole.sample.rows()["x"].drop_nulls().to_list()
    )


def test_profile_build_engine_spark_segment_by(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    local = frame(5_000)
    path = tmp_path / "data.parquet"
    local.write_parquet(path)
    out = tmp_path / "ref.profile"
    args = ["profile", "build", str(path), "--out", str(out), "--engine", "spark"]
    result = CliRunner().invoke(app, [*args, "--segment-by", "c"])
    assert result.exit_code == 0, result.output
    assert "4 segments of c" in result.output
    assert load_profile(out).segment_values("c") == profile(local, segment_by=["c"]).segment_values(
        "c"
    )
    missing = CliRunner().invoke(app, [*args, "--segment-by", "zone"])
    assert missing.exit_code == 2
    assert missing.output.startswith("error: Segment column 'zone' is not in the Spark DataFrame")
