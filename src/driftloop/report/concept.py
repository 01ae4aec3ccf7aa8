"""The concept drift page (rendering only; the numbers come computed)."""

from __future__ import annotations

from typing import Any

from driftloop.report.charts import line_chart
from driftloop.report.html import environment

__all__ = ["render_concept_html"]


def render_concept_html(
    pipeline: str, window: tuple[str, str], report: dict[str, Any], series: list[dict[str, Any]]
) -> str:
    """The window's metrics against the baseline, and a chart per metric over all windows."""
    labels = [w["window_start"] for w in series]
    charts = []
    for m in report["metrics"]:
        name = m["name"]
        band = (
            [_value(w, name, "ci_low") for w in series],
            [_value(w, name, "ci_high") for w in series],
        )
        charts.append(
            line_chart(
                labels,
                {name: [_value(w, name, "current") for w in series]},
                title=f"{name} per window (baseline dashed, 95% CI shaded)",
                baseline=m["baseline"],
                band=band,
                marks=[bool(_value(w, name, "alerted")) for w in series],
            )
        )
    alarms = ", ".join(f"{a['detector']} at pair {a['index']}" for a in report.get("alarms", []))
    return (
        environment()
        .get_template("concept.html")
        .render(
            pipeline=pipeline, window=window, report=report, charts=charts, alarms=alarms or "none"
        )
    )


def _value(window: dict[str, Any], metric: str, key: str) -> Any:
    for m in window["metrics"]:
        if m["name"] == metric:
            return m[key]
    return None
