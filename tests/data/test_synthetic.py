"""The synthetic bike-sharing data: schema, determinism, and the patterns a demo relies on."""

from __future__ import annotations

import datetime as dt

import polars as pl

from driftloop.data.synthetic import BIKE_COLUMNS, bike_sharing, load_bike_sharing, us_holidays


def test_schema_and_range() -> None:
    df = bike_sharing()
    assert df.columns == list(BIKE_COLUMNS)
    assert df["dteday"].min() == dt.date(2011, 1, 1) and df["dteday"].max() == dt.date(2012, 12, 31)
    assert df["instant"].to_list() == list(range(1, 732))
    assert set(df["season"].unique()) == {1, 2, 3, 4}
    assert set(df["weathersit"].unique()) <= {1, 2, 3, 4}
    for col in ("temp", "atemp", "hum", "windspeed"):
        assert df[col].min() >= 0 and df[col].max() <= 1
    assert (df["cnt"] == df["casual"] + df["registered"]).all()


def test_seeded_and_deterministic() -> None:
    assert bike_sharing(seed=3).equals(bike_sharing(seed=3))
    assert not bike_sharing(seed=3).equals(bike_sharing(seed=4))


def test_realistic_patterns() -> None:
    df = bike_sharing()
    by_month = df.group_by("yr", "mnth").agg(pl.col("temp").mean(), pl.col("cnt").mean())
    jan = by_month.filter((pl.col("yr") == 0) & (pl.col("mnth") == 1)).row(0, named=True)
    jul = by_month.filter((pl.col("yr") == 0) & (pl.col("mnth") == 7)).row(0, named=True)
    assert jul["temp"] > jan["temp"] + 0.3 and jul["cnt"] > 2 * jan["cnt"]
    growth = df.group_by("yr").agg(pl.col("cnt").mean()).sort("yr")["cnt"]
    assert growth[1] > 1.3 * growth[0]
    work = (
        df.group_by("workingday")
        .agg(pl.col("casual").mean(), pl.col("registered").mean())
        .sort("workingday")
    )
    assert work["casual"][0] > work["casual"][1] and work["registered"][1] > work["registered"][0]
    rain = df.group_by("weathersit").agg(pl.col("cnt").mean()).sort("weathersit")["cnt"]
    assert rain[0] > rain[2]
    assert 18 <= df["holiday"].sum() <= 21  # about ten US federal holidays a year
    assert (df.filter(pl.col("holiday") == 1)["workingday"] == 0).all()


def test_holidays() -> None:
    assert dt.date(2011, 7, 4) in us_holidays(2011)
    assert dt.date(2012, 11, 22) in us_holidays(2012)  # Thanksgiving
    assert dt.date(2011, 12, 26) in us_holidays(2011)  # Christmas observed on Monday


def test_concept_shift_changes_the_target_not_the_features() -> None:
    base = bike_sharing()
    shifted = bike_sharing(concept_shift_from=dt.date(2012, 6, 1))
    features = [c for c in BIKE_COLUMNS if c not in ("casual", "registered", "cnt")]
    assert shifted.select(features).equals(base.select(features))
    before = dt.date(2012, 6, 1)
    assert shifted.filter(pl.col("dteday") < before).equals(base.filter(pl.col("dteday") < before))
    assert not shifted.filter(pl.col("dteday") >= before)["cnt"].equals(
        base.filter(pl.col("dteday") >= before)["cnt"]
    )


def test_loader_reads_a_real_file_by_url(http_files) -> None:
    base, root = http_files
    bike_sharing().head(40).write_csv(root / "day.csv")
    df = load_bike_sharing(f"{base}/day.csv")
    assert df.height == 40 and df.columns == list(BIKE_COLUMNS)
