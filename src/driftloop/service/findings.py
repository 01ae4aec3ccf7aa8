"""What the dashboard shows of drift no single column shows: multivariate and segment results.

The pipeline page gets one chart per multivariate method (its statistic against its threshold
per window, drifted windows ringed) and the segment findings of its windows; the run page lists
the run's own results. Read from the history (``HistoryStore.history`` and ``run_findings``).
"""

from __future__ import annotations

from typing import Any

from driftloop.drift.results import MultivariateDrift
from driftloop.report.charts import line_chart

__all__ = ["multivariate_finding", "multivariate_panels", "segment_findings"]


def multivariate_finding(row: dict[str, Any]) -> str:
    """The alert's words for a stored multivariate row, e.g. ``rows no longer agree on temp vs
    atemp`` (a skipped one: its reason).

    Examples
    --------
    >>> multivariate_finding({"method": "pca_reconstruction", "drifted": True,
    ...                       "top_features": ["temp", "atemp"], "skipped": None})
    'rows no longer agree on temp vs atemp'
    """
    if row.get("skipped"):
        return f"skipped: {row['skipped']}"
    found = MultivariateDrift(
        row["method"], None, None, None, bool(row["drifted"]), tuple(row["top_features"]), (), 0, 0
    )
    return found.finding


def multivariate_panels(windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per method found in ``windows`` (the history's window entries): a chart of its statistic
    and threshold per window, and the windows where it drifted with what drove it."""
    methods = sorted({m for w in windows for m in w.get("multivariate", {})})
    panels = []
    for method in methods:
        rows = [w.get("multivariate", {}).get(method) for w in windows]
        chart = line_chart(
            [w["start"] for w in windows],
            {
                "statistic": [r["statistic"] if r else None for r in rows],
                "threshold": [r["threshold"] if r else None for r in rows],
            },
            title=f"{method}: statistic against its threshold per window (drift ringed)",
            marks=[bool(r and r["drifted"]) for r in rows],
        )
        drifted = [
            {"window": w, "finding": multivariate_finding({"method": method, **r}), **r}
            for w, r in zip(windows, rows, strict=True)
            if r and (r["drifted"] or r["skipped"])
        ]
        panels.append({"method": method, "chart": chart, "windows": drifted[::-1]})
    return panels


def segment_findings(windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every segment of ``windows`` that drifted or was skipped, newest window first, with its
    findings in words (``windspeed drifted where workingday = 0``)."""
    found = []
    for w in reversed(windows):
        for s in w.get("segments", []):
            if not (s["drifted"] or s["skipped"]):
                continue
            where = f"{s['column']} = {s['value']}"
            lines = [f"{name} drifted where {where}" for name in s["drifted"]]
            found.append({"window": w, "where": where, "findings": lines, **s})
    return found
