"""The profile file: round trip, size at any row count, and one clear line for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from driftloop.errors import ProfileError
from driftloop.profiles import is_profile, load_profile, profile, save_profile


def wide(rows: int, seed: int = 0) -> pl.DataFrame:
    """20 numeric columns (continuous, counts, a flag) and 5 label columns, with nulls and inf."""
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    for i in range(18):
        cols[f"num_{i:02d}"] = rng.normal(10 * i, 1 + i, size=rows)
    cols["count"] = rng.poisson(3, size=rows)
    cols["flag"] = rng.integers(0, 2, size=rows)
    for j in range(5):
        cols[f"cat_{j}"] = rng.choice([f"label_{k}" for k in range(40)], size=rows)
    frame = pl.DataFrame(cols)
    return frame.with_columns(
        pl.when(pl.int_range(rows) % 97 == 0)
        .then(None)
        .otherwise(pl.col("num_00"))
        .alias("num_00"),
        pl.when(pl.int_range(rows) % 89 == 0)
        .then(float("inf"))
        .otherwise(pl.col("num_01"))
        .alias("num_01"),
    )


def test_round_trip_keeps_every_part(tmp_path: Path) -> None:
    original = profile(wide(20_000))
    path = save_profile(original, tmp_path / "ref.profile")
    loaded = load_profile(path)
    assert loaded.columns == original.columns and loaded.height == original.height
    for a, b in zip(loaded.profiles, original.profiles, strict=True):
        assert a == b  # counts, moments, extremes, labels
        if b.numeric is not None:
            assert a.numeric.sketch == b.numeric.sketch
            assert (a.numeric.values is None) == (b.numeric.values is None)
            assert (a.numeric.distinct is None) == (b.numeric.distinct is None)
    assert is_profile(path) and not any(tmp_path.glob(".*partial"))


@pytest.mark.parametrize("rows", [3_000, 200_000], ids=["exact values", "sketches"])
def test_25_columns_take_under_one_megabyte(tmp_path: Path, rows: int) -> None:
    path = save_profile(profile(wide(rows)), tmp_path / "ref.profile")
    assert path.stat().st_size <= 1_000_000


def test_a_parquet_file_that_is_not_a_profile_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pl.DataFrame({"x": [1.0]}).write_parquet(path)
    assert not is_profile(path)
    with pytest.raises(ProfileError, match="is a Parquet file but not a driftloop profile"):
        load_profile(path)


def test_a_truncated_profile_is_refused(tmp_path: Path) -> None:
    path = save_profile(profile(wide(5_000)), tmp_path / "ref.profile")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProfileError, match="corrupt or truncated"):
        load_profile(path)


def test_a_profile_of_another_format_is_refused(tmp_path: Path) -> None:
    import json

    import pyarrow.parquet as pq

    path = save_profile(profile(wide(100)), tmp_path / "ref.profile")
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"driftloop.profile"])
    meta |= {"format": 99, "driftloop": "9.0.0"}
    pq.write_table(table.replace_schema_metadata({b"driftloop.profile": json.dumps(meta)}), path)
    with pytest.raises(
        ProfileError, match=r"has format 99 \(driftloop 9.0.0\); this driftloop reads format 1"
    ):
        load_profile(path)
