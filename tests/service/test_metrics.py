"""/metrics gauges from a real run's report: features, multivariate methods and segments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from driftloop.demo import month
from driftloop.pipeline.runner import Runner
from driftloop.service.metrics import LoopMetrics
from tests.pipeline.conftest import MakePipeline, bikes, make_pipeline

__all__ = ["bikes", "make_pipeline"]  # the pipeline fixtures, used here too


def _value(text: str, name: str, **labels: str) -> float | None:
    """The sample of ``name`` with exactly these labels in Prometheus' text format."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return None


def test_multivariate_and_segment_gauges(make_pipeline: MakePipeline) -> None:
    config = make_pipeline(
        detection={
            "multivariate": {"columns": ["temp", "atemp", "hum", "windspeed"], "permutations": 49},
            "segments": [{"column": "workingday", "min_rows": 8}],
        },
        on_drift={"retrain": False, "publish": False, "alert": False},
    )
    start, end = month(2011, 7)  # a January reference: July is warmer
    outcome = Runner(config).run(start=start, end=end)
    assert outcome.status == "succeeded", outcome.error
    verdict = outcome.verdict
    assert verdict is not None
    metrics = LoopMetrics()
    metrics.record_run(config.pipeline, outcome.status, 1.0, verdict.report_json, outcome.window)
    text = generate_latest(metrics.registry).decode()
    report = json.loads(Path(verdict.report_json).read_text())
    methods = {m["method"]: m for m in report["multivariate"]}
    assert set(methods) == {"domain_classifier", "pca_reconstruction"}
    for name, method in methods.items():
        labels = {"pipeline": "bike-sharing", "method": name}
        assert _value(text, "driftloop_multivariate_drift_statistic", **labels) == pytest.approx(
            method["statistic"]
        )
        assert _value(text, "driftloop_multivariate_drift_threshold", **labels) == pytest.approx(
            method["threshold"]
        )
        assert _value(text, "driftloop_multivariate_drifted", **labels) == float(method["drifted"])
    assert [s["value"] for s in report["segments"]] == [0, 1]
    for segment in report["segments"]:
        labels = {
            "pipeline": "bike-sharing",
            "segment": "workingday",
            "value": str(segment["value"]),
        }
        share = _value(text, "driftloop_segment_share_drifted", **labels)
        assert share == pytest.approx(segment["share_drifted"]) and share > 0  # temp moved
        drift = _value(text, "driftloop_segment_dataset_drift", **labels)
        assert drift == float(segment["dataset_drift"])
