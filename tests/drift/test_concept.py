"""Concept drift: metrics equal the reference implementations, honest alerts, river detectors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from driftloop.drift.concept import concept_drift
from driftloop.errors import ConfigError, DataError


def pairs(
    n: int, slope: float = 1.0, noise: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return x, slope * x + rng.normal(0, noise, n)


def test_metrics_equal_scipy_and_numpy() -> None:
    bp, by = pairs(300, seed=1)
    cp, cy = pairs(120, seed=2)
    report = concept_drift(bp, by, cp, cy, error_metric="mae")
    assert report.metric("pearson").current == pytest.approx(stats.pearsonr(cy, cp).statistic)
    assert report.metric("spearman").current == pytest.approx(stats.spearmanr(cy, cp).statistic)
    assert report.metric("mae").baseline == pytest.approx(np.mean(np.abs(by - bp)))
    for m in report.metrics:
        assert m.ci_low <= m.current <= m.ci_high


def test_no_concept_drift_rarely_alerts() -> None:
    alerts = 0
    for seed in range(200):
        bp, by = pairs(60, seed=seed)
        cp, cy = pairs(30, seed=10_000 + seed)
        alerts += concept_drift(bp, by, cp, cy, n_boot=200, seed=seed).concept_drift
    assert alerts / 200 <= 0.05


@pytest.mark.parametrize(
    ("slope", "noise", "alerted"),
    [
        (-1.0, 0.3, {"pearson", "spearman", "rmse"}),
        (1.0, 1.5, {"pearson", "spearman", "rmse"}),
        (0.3, 0.3, {"pearson", "spearman"}),
    ],
    ids=["reversed", "noisier", "flatter"],
)
def test_clear_concept_drift_alerts(slope: float, noise: float, alerted: set[str]) -> None:
    bp, by = pairs(300, seed=3)
    cp, cy = pairs(100, slope=slope, noise=noise, seed=4)
    report = concept_drift(bp, by, cp, cy)
    assert report.concept_drift
    assert alerted <= {m.name for m in report.metrics if m.alerted}


def test_classification_metrics() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 400).astype(float)
    good = np.clip(y * 0.7 + rng.uniform(0, 0.3, 400), 0, 1)
    bad = rng.uniform(0, 1, 200)
    report = concept_drift(good, y, bad, y[:200], task="classification")
    assert [m.name for m in report.metrics] == ["accuracy", "f1", "roc_auc"]
    assert report.concept_drift and report.metric("accuracy").baseline == 1.0


def test_streaming_detectors_find_the_change() -> None:
    bp, by = pairs(300, seed=6)
    cp, cy = pairs(200, noise=2.0, seed=7)
    report = concept_drift(bp, by, cp, cy, detectors=["adwin", "page_hinkley"])
    assert {a.detector for a in report.alarms} >= {"adwin"}
    quiet = concept_drift(bp, by, *pairs(200, seed=8), detectors=["adwin"])
    assert quiet.alarms == ()


def test_errors() -> None:
    bp, by = pairs(10)
    with pytest.raises(
        DataError,
        match=r"^Too few prediction-outcome pairs to judge concept drift \(baseline 10, window 2; at least 3 each\)\.$",
    ):
        concept_drift(bp, by, bp[:2], by[:2])
    with pytest.raises(DataError, match="lengths differ"):
        concept_drift(bp, by[:5], bp, by)
    with pytest.raises(
        ConfigError, match=r"^Unknown error metric 'mape'\. Valid: rmse, mae, rmsle\.$"
    ):
        concept_drift(bp, by, bp, by, error_metric="mape")
    with pytest.raises(
        ConfigError, match=r"^Unknown task 'ranking'\. Valid tasks: regression, classification\.$"
    ):
        concept_drift(bp, by, bp, by, task="ranking")
    with pytest.raises(
        ConfigError,
        match=r"^Unknown detector 'kswin'\. Valid detectors: adwin, page_hinkley, ddm\.$",
    ):
        concept_drift(bp, by, bp, by, detectors=["kswin"])
    with pytest.raises(ConfigError, match="use it with task: classification"):
        concept_drift(bp, by, bp, by, detectors=["ddm"])
