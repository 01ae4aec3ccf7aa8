"""Segment drift in the loop: the detect step's report carries segments and they can fire it."""

from __future__ import annotations

import json
from pathlib import Path

from driftloop.demo import month
from driftloop.pipeline.runner import Runner
from tests.pipeline.conftest import MakePipeline


def test_a_segment_finding_fires_the_run_and_names_the_segment(make_pipeline: MakePipeline) -> None:
    config = make_pipeline(
        detection={"fdr": True, "segments": [{"column": "workingday", "min_rows": 8}]},
        on_drift={
            "retrain": False,
            "publish": False,
            "when": {"dataset_drift": False, "degradation": False, "segments": ["workingday"]},
        },
    )
    start, end = month(2011, 7)  # a January reference: July is warmer
    outcome = Runner(config).run(start=start, end=end)
    assert outcome.status == "succeeded", outcome.error
    verdict = outcome.verdict
    assert verdict is not None and verdict.fires
    assert "temp drifted where workingday = 1" in verdict.reasons
    report = json.loads(Path(verdict.report_json).read_text())
    assert [(s["column"], s["value"]) for s in report["segments"]] == [
        ("workingday", 0),
        ("workingday", 1),
    ]
    html = Path(verdict.report_html).read_text()
    assert "temp drifted where workingday = 1" in html
