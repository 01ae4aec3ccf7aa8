"""The calibration page (rendering only; the numbers come computed)."""

from __future__ import annotations

from typing import Any

from driftloop.report.charts import line_chart
from driftloop.report.html import environment

__all__ = ["render_calibration_html"]


def render_calibration_html(pipeline: str, calibration: Any, replay: list[dict[str, Any]]) -> str:
    """Proposed against current thresholds, their false-alarm rates, and the replay."""
    chart = ""
    judged = [r for r in replay if not r.get("skipped")]
    if judged:
        chart = line_chart(
            [r["window_start"] for r in judged],
            {
                "current": [r["current_share"] for r in judged],
                "proposed": [r["proposed_share"] for r in judged],
            },
            title="share of features drifted per past window",
        )
    return (
        environment()
        .get_template("calibration.html")
        .render(pipeline=pipeline, c=calibration, replay=replay, chart=chart)
    )
