"""A Grafana dashboard over the drift history tables (PostgreSQL data source).

The panels read the warehouse database directly: share drifted per window with the
``drift_share`` level, drifted features per window, each feature's statistic and p-value, concept
drift, each multivariate method's statistic over its threshold (above 1: drift), each segment's
share of drifted features, the production model's estimated and realized performance, and the
runs. The concept drift panel is there when the pipeline monitors concept drift (its table,
``driftloop_concept_windows``, exists only then). The multivariate and segment panels stay
empty until ``detection.multivariate`` or ``detection.segments`` is configured. Every series is
placed at its window's end date (``window_end``), not at the time a run happened, so a backfilled
year reads as that year. Only the current run of each window is read (``NOT superseded``).
The data source is an import input (``DS_DRIFTLOOP``): Grafana asks
for it when the file is imported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["dashboard", "export_grafana"]

_DATASOURCE = {"type": "grafana-postgresql-datasource", "uid": "${DS_DRIFTLOOP}"}
_WINDOWS = "driftloop_history_windows"
_FEATURES = "driftloop_history_features"
_MULTIVARIATE = "driftloop_history_multivariate"
_SEGMENTS = "driftloop_history_segments"
_PERFORMANCE = "driftloop_history_performance"
_CURRENT = "pipeline = '$pipeline' AND NOT superseded AND $__timeFilter(window_end)"

QUERIES = {
    "Share of features drifted": (
        "timeseries",
        f'SELECT window_end::timestamp AS time, share_drifted AS "share drifted", drift_share '
        f'AS "dataset drift at" FROM {_WINDOWS} WHERE {_CURRENT} ORDER BY 1',
    ),
    "Drifted features per window": (
        "timeseries",
        f"SELECT window_end::timestamp AS time, n_drifted AS drifted, n_tested AS tested "
        f"FROM {_WINDOWS} WHERE {_CURRENT} ORDER BY 1",
    ),
    "Statistic per feature": (
        "timeseries",
        f"SELECT window_end::timestamp AS time, feature AS metric, statistic AS value "
        f"FROM {_FEATURES} WHERE {_CURRENT} AND statistic IS NOT NULL ORDER BY 1, 2",
    ),
    "P-value per feature (tests only)": (
        "timeseries",
        f"SELECT window_end::timestamp AS time, feature AS metric, p_value AS value "
        f"FROM {_FEATURES} WHERE {_CURRENT} AND p_value IS NOT NULL ORDER BY 1, 2",
    ),
    "Concept drift per window": (
        "timeseries",
        "SELECT window_end::timestamp AS time, CASE WHEN concept_drift THEN 1 ELSE 0 END AS "
        "\"concept drift\" FROM driftloop_concept_windows WHERE pipeline = '$pipeline' "
        "AND $__timeFilter(window_end) ORDER BY 1",
    ),
    "Multivariate statistic / threshold (above 1: drift)": (
        "timeseries",
        f"SELECT window_end::timestamp AS time, method AS metric, statistic / threshold AS value "
        f"FROM {_MULTIVARIATE} WHERE {_CURRENT} AND statistic IS NOT NULL AND threshold > 0 "
        f"ORDER BY 1, 2",
    ),
    "Share of features drifted per segment": (
        "timeseries",
        f"SELECT window_end::timestamp AS time, segment || ' = ' || value AS metric, "
        f"share_drifted AS value FROM {_SEGMENTS} WHERE {_CURRENT} AND skipped IS NULL "
        f"ORDER BY 1, 2",
    ),
    "Model performance: estimated (interval) and realized": (
        "timeseries",
        f'SELECT window_end::timestamp AS time, estimated, lower AS "interval low", upper AS '
        f'"interval high", realized, reference_value AS reference FROM {_PERFORMANCE} '
        f"WHERE {_CURRENT} AND estimated IS NOT NULL ORDER BY 1",
    ),
    "Runs": (
        "table",
        "SELECT run_id, trigger, window_start, window_end, status, model_outcome, started_at "
        "FROM driftloop_runs WHERE pipeline = '$pipeline' "
        "ORDER BY started_at DESC, run_id DESC LIMIT 200",
    ),
}


def _panel(number: int, title: str, kind: str, sql: str) -> dict[str, Any]:
    wide = kind == "table"
    return {
        "id": number + 1,
        "type": kind,
        "title": title,
        "datasource": _DATASOURCE,
        "gridPos": {
            "h": 8,
            "w": 24 if wide else 12,
            "x": 0 if wide else 12 * (number % 2),
            "y": 8 * ((number + 1) // 2 if wide else number // 2),
        },
        "targets": [
            {
                "refId": "A",
                "datasource": _DATASOURCE,
                "editorMode": "code",
                "format": "table" if wide else "time_series",
                "rawQuery": True,
                "rawSql": sql,
            }
        ],
    }


_CONCEPT_PANEL = "Concept drift per window"


def dashboard(pipeline: str, *, concept: bool = False) -> dict[str, Any]:
    """The dashboard model for ``pipeline`` (import it in Grafana: Dashboards > New > Import);
    with ``concept``, the concept drift panel too.

    Examples
    --------
    >>> board = dashboard("bike-sharing")
    >>> board["uid"], [p["title"] for p in board["panels"]][:2]
    ('driftloop-bike-sharing', ['Share of features drifted', 'Drifted features per window'])
    >>> "Concept drift per window" in [p["title"] for p in board["panels"]]
    False
    """
    queries = [(t, q) for t, q in QUERIES.items() if concept or t != _CONCEPT_PANEL]
    return {
        "__inputs": [
            {
                "name": "DS_DRIFTLOOP",
                "label": "driftloop warehouse (PostgreSQL)",
                "type": "datasource",
                "pluginId": "grafana-postgresql-datasource",
            }
        ],
        "uid": f"driftloop-{pipeline}"[:40],
        "title": f"driftloop: {pipeline}",
        "tags": ["driftloop"],
        "timezone": "utc",
        "schemaVersion": 39,
        "time": {"from": "now-2y", "to": "now"},
        "templating": {
            "list": [{"name": "pipeline", "type": "constant", "query": pipeline, "hide": 2}]
        },
        "panels": [_panel(i, title, kind, sql) for i, (title, (kind, sql)) in enumerate(queries)],
    }


def export_grafana(pipeline: str, out: Path, *, concept: bool = False) -> Path:
    """Write the dashboard JSON for ``pipeline`` to ``out`` (``concept``: see `dashboard`)."""
    board = dashboard(pipeline, concept=concept)
    out.write_text(json.dumps(board, indent=2) + "\n", encoding="utf-8")
    return out
