"""Label-free performance estimation: coverage of the realized metric, quiet alerts, refusals."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import driftloop
from driftloop.drift.performance import _realized, estimate_performance
from driftloop.errors import ConfigError, DataError


def scored(rng: np.random.Generator, n: int, shift: float = 0.0, scale: float = 1.0):
    x1, x2 = shift + scale * rng.normal(size=n), rng.normal(size=n)
    p = 1 / (1 + np.exp(-(1.5 * x1 - x2)))
    return p, (rng.random(n) < p).astype(int)


@pytest.fixture(scope="module")
def reference() -> pl.DataFrame:
    p, y = scored(np.random.default_rng(0), 3000)
    return pl.DataFrame({"p": p, "y": y})


@pytest.mark.parametrize("metric", ["roc_auc", "accuracy", "f1"])
def test_the_interval_covers_the_realized_metric_under_covariate_shift(reference, metric) -> None:
    rng = np.random.default_rng(1)
    inside = 0
    for w in range(40):
        q, z = scored(rng, 400, rng.uniform(-1, 1), rng.uniform(0.5, 1.5))
        e = estimate_performance(
            reference, pl.DataFrame({"p": q}), target="y", score="p", metric=metric, seed=w
        )
        inside += e.lower <= _realized(metric, q[:, None], z) <= e.upper
    assert inside >= 33  # 95% intervals: 38 expected; 33 of 40 is 2.4 SE below


def test_the_estimate_follows_a_shift_that_hurts_and_alerts(reference) -> None:
    rng = np.random.default_rng(2)
    quiet = estimate_performance(
        reference, pl.DataFrame({"p": scored(rng, 1000)[0]}), target="y", score="p"
    )
    hurt = estimate_performance(
        reference, pl.DataFrame({"p": scored(rng, 1000, scale=0.5)[0]}), target="y", score="p"
    )
    assert not quiet.alert and hurt.alert
    assert hurt.value < quiet.value - 0.05 and hurt.upper < hurt.reference_value


def test_uncalibrated_scores_are_recalibrated_and_the_models_own_predictions_judged() -> None:
    rng = np.random.default_rng(3)
    p, y = scored(rng, 3000)
    reference = pl.DataFrame({"p": p**3, "y": y})
    q, z = scored(rng, 1000, shift=0.5)
    e = estimate_performance(
        reference, pl.DataFrame({"p": q**3}), target="y", score="p", metric="accuracy"
    )
    assert e.recalibrated
    assert e.lower <= _realized("accuracy", (q**3)[:, None], z) <= e.upper


def test_multiclass_accuracy_and_macro_f1() -> None:
    rng = np.random.default_rng(4)

    def three(n: int):
        x = rng.normal(size=(n, 2))
        logits = x @ np.array([[1.5, -1.0, 0.0], [0.0, 1.0, -1.2]])
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return p, (rng.random((n, 1)) > np.cumsum(p, axis=1)[:, :-1]).sum(axis=1)

    names = ["a", "b", "c"]
    p, y = three(3000)
    ref = pl.DataFrame({**{n: p[:, i] for i, n in enumerate(names)}, "y": y})
    q, z = three(600)
    cur = pl.DataFrame({n: q[:, i] for i, n in enumerate(names)})
    for metric in ("accuracy", "f1"):
        e = driftloop.estimate_performance(ref, cur, target="y", score=names, metric=metric)
        assert e.lower <= _realized(metric, q, z) <= e.upper


def test_bad_input_gets_one_line(reference) -> None:
    cur = pl.DataFrame({"p": [0.2, 0.7, 0.9]})
    with pytest.raises(DataError, match=r"^Score column 'p' of the window holds 1\.5 at row 1"):
        estimate_performance(reference, pl.DataFrame({"p": [0.2, 1.5]}), target="y", score="p")
    with pytest.raises(DataError, match=r"^The reference has no column 'score'"):
        estimate_performance(reference, cur, target="y", score="score")
    with pytest.raises(DataError, match="holds a single class"):
        one = reference.with_columns(pl.lit(1).alias("y"))
        estimate_performance(one, cur, target="y", score="p")
    with pytest.raises(DataError, match=r"^The window holds the label column 'y'"):
        estimate_performance(reference, reference, target="y", score="p")
    with pytest.raises(DataError, match=r"^The reference has 50 labelled rows; .* at least 200"):
        estimate_performance(reference.head(50), cur, target="y", score="p")
    with pytest.raises(ConfigError, match=r"^Unknown metric 'auc'\. Valid: roc_auc, accuracy"):
        estimate_performance(reference, cur, target="y", score="p", metric="auc")
    with pytest.raises(ConfigError, match=r"^alpha must be in \(0, 1\)"):
        estimate_performance(reference, cur, target="y", score="p", alpha=0)


def test_scores_recalibration_cannot_fix_are_refused() -> None:
    rng = np.random.default_rng(5)
    p, y = scored(rng, 400)
    flipped = pl.DataFrame({"p": 1 - p, "y": y})  # anti-calibrated: isotonic fits a constant
    with pytest.raises(DataError, match="not calibrated"):
        estimate_performance(flipped, pl.DataFrame({"p": p[:50]}), target="y", score="p")
