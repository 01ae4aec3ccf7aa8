"""Every degradation kind fires on a broken feature and stays quiet on a healthy one."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import driftloop

N = 1000


@pytest.fixture
def reference() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    return pl.DataFrame(
        {
            "num": rng.normal(50, 10, N),
            "ids": rng.integers(0, 500, N),
            "city": rng.choice([f"c{i}" for i in range(20)], N),
            "kind": rng.choice(["x", "y", "z"], N),
        }
    )


def alerts_for(reference: pl.DataFrame, current: pl.DataFrame) -> set[tuple[str, str]]:
    report = driftloop.detect(reference, current)
    return {(a.feature, a.kind) for a in report.degradation}


def healthy(seed: int = 8) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "num": rng.normal(50, 10, N),
            "ids": rng.integers(0, 500, N),
            "city": rng.choice([f"c{i}" for i in range(20)], N),
            "kind": rng.choice(["x", "y", "z"], N),
        }
    )


def test_healthy_window_raises_nothing(reference: pl.DataFrame) -> None:
    assert alerts_for(reference, healthy()) == set()


def test_small_healthy_window_raises_nothing(reference: pl.DataFrame) -> None:
    # 30 rows show few distinct cities or ids: that is sampling, not a collapse.
    assert alerts_for(reference, healthy().head(30)) == set()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda df: df.drop("num"), ("num", "missing_feature")),
        (
            lambda df: df.with_columns(
                pl.when(pl.int_range(N) % 4 == 0).then(None).otherwise(pl.col("num")).alias("num")
            ),
            ("num", "null_rate"),
        ),
        (
            lambda df: df.with_columns(
                pl.when(pl.int_range(N) % 5 == 0)
                .then(float("inf"))
                .otherwise(pl.col("num"))
                .alias("num")
            ),
            ("num", "non_finite"),
        ),
        (lambda df: df.with_columns(pl.lit(3.0).alias("num")), ("num", "constant")),
        (lambda df: df.with_columns(pl.col("num") * 0.1 + 45), ("num", "variance_collapse")),
        (lambda df: df.with_columns(pl.col("ids") % 20), ("ids", "cardinality_collapse")),
        (
            lambda df: df.with_columns(
                pl.when(pl.int_range(N) % 5 == 0)
                .then(pl.lit("new"))
                .otherwise(pl.col("kind"))
                .alias("kind")
            ),
            ("kind", "new_categories"),
        ),
        (lambda df: df.with_columns(pl.col("num") * 100), ("num", "out_of_range")),
        (lambda df: df.with_columns(pl.col("num").cast(pl.String)), ("num", "dtype_change")),
    ],
    ids=lambda v: v[1] if isinstance(v, tuple) else "",
)
def test_each_degradation_kind(reference: pl.DataFrame, change, expected) -> None:
    report = driftloop.detect(reference, change(healthy()))
    found = {(a.feature, a.kind): a for a in report.degradation}
    assert expected in found, sorted(found)
    alert = found[expected]
    assert expected[0] in alert.message and alert.message.endswith(".")


def test_degradation_values_are_reported(reference: pl.DataFrame) -> None:
    current = healthy().with_columns(
        pl.when(pl.int_range(N) % 2 == 0).then(None).otherwise(pl.col("num")).alias("num")
    )
    alert = next(
        a for a in driftloop.detect(reference, current).degradation if a.kind == "null_rate"
    )
    assert alert.current == pytest.approx(0.5) and alert.baseline == 0.0
    assert "0.0% to 50.0%" in alert.message


def test_degradation_can_be_disabled(reference: pl.DataFrame) -> None:
    current = healthy().with_columns(pl.lit(3.0).alias("num"))
    report = driftloop.detect(reference, current, config={"degradation": {"enabled": False}})
    assert report.degradation == ()


def test_thresholds_are_configurable(reference: pl.DataFrame) -> None:
    current = healthy().with_columns(
        pl.when(pl.int_range(N) % 10 == 0).then(None).otherwise(pl.col("num")).alias("num")
    )
    assert ("num", "null_rate") in alerts_for(reference, current)
    report = driftloop.detect(reference, current, config={"degradation": {"null_rate": 0.2}})
    assert not any(a.kind == "null_rate" for a in report.degradation)
