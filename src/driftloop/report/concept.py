"""The concept-drift report: the window's metrics against the baseline, and the series so far."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from driftloop.report.charts import line_chart
from driftloop.report.format import fmt_number

__all__ = ["render_concept_html"]

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1d2330; max-width: 1000px; margin: 0 auto; padding: 24px; }
table { border-collapse: collapse; width: 100%; } th, td { padding: 6px 8px; border-bottom: 1px solid #e5e7eb; text-align: left; }
th { background: #f6f7f9; } .yes { color: #b42318; font-weight: 600; } .no { color: #2e7d32; }
.verdict { padding: 10px 14px; border-radius: 8px; margin: 12px 0; }
.drift { background: #fdecea; border: 1px solid #f5c2bd; } .ok { background: #eaf6ec; border: 1px solid #bfe3c5; }
svg.chart { width: 100%; height: auto; } svg .tick { font-size: 10px; fill: #5a6275; }
svg .tick.end { text-anchor: end; } svg .tick.mid { text-anchor: middle; } svg .title { font-size: 12px; font-weight: 600; }
svg .grid { stroke: #eef0f3; } svg .baseline { stroke: #5a6275; stroke-dasharray: 4 3; } svg .band { fill: #e0872f33; }
"""


def _esc(text: str) -> str:
    return str(Markup.escape(text))


def render_concept_html(
    pipeline: str, window: tuple[str, str], report: dict[str, Any], series: list[dict[str, Any]]
) -> str:
    """One self-contained page: verdict, metric table, and a chart per metric over the windows."""
    drift = report["concept_drift"]
    rows = "".join(
        f"<tr><td>{_esc(m['name'])}</td><td>{fmt_number(m['baseline'])}</td><td>{fmt_number(m['current'])}</td>"
        f"<td>[{fmt_number(m['ci_low'])}, {fmt_number(m['ci_high'])}]</td><td>{fmt_number(m['tolerance'])}</td>"
        f'<td class="{"yes" if m["alerted"] else "no"}">{"yes" if m["alerted"] else "no"}</td></tr>'
        for m in report["metrics"]
    )
    labels = [w["window_start"] for w in series]
    charts = []
    for m in report["metrics"]:
        name = m["name"]
        values = [_value(w, name, "current") for w in series]
        band = (
            [_value(w, name, "ci_low") for w in series],
            [_value(w, name, "ci_high") for w in series],
        )
        marks = [bool(_value(w, name, "alerted")) for w in series]
        charts.append(
            line_chart(
                labels,
                {name: values},
                title=f"{name} per window (baseline dashed, 95% CI shaded)",
                baseline=m["baseline"],
                band=band,
                marks=marks,
            )
        )
    alarms = (
        ", ".join(f"{a['detector']} at pair {a['index']}" for a in report.get("alarms", []))
        or "none"
    )
    verdict = "Concept drift detected" if drift else "No concept drift"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_esc(pipeline)} concept drift</title>'
        f"<style>{_STYLE}</style></head><body><h1>Concept drift: {_esc(pipeline)}</h1>"
        f"<p>Window {_esc(window[0])} to {_esc(window[1])} · {report['n_current']} prediction-outcome pairs · "
        f"baseline {report['n_baseline']} pairs · task {_esc(report['task'])}</p>"
        f'<div class="verdict {"drift" if drift else "ok"}" id="verdict"><strong>{verdict}.</strong> '
        f"Streaming detectors: {_esc(alarms)}.</div>"
        f'<table id="metrics"><thead><tr><th>metric</th><th>baseline</th><th>window</th><th>95% CI</th>'
        f"<th>tolerance</th><th>alert</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<h2>Per window</h2>{''.join(str(c) for c in charts)}</body></html>"
    )


def _value(window: dict[str, Any], metric: str, key: str) -> Any:
    for m in window["metrics"]:
        if m["name"] == metric:
            return m[key]
    return None
