"""What each dashboard page shows, read from the history, the run records and the outbox.

Rendering lives in ``dashboard``; these functions only gather numbers, one pipeline at a time
(each pipeline may keep its tables in its own warehouse database).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from driftloop.config import PipelineConfig
from driftloop.history.store import HistoryStore
from driftloop.pipeline.records import RunStore
from driftloop.report.charts import line_chart
from driftloop.service.findings import multivariate_panels, segment_findings
from driftloop.service.heatmap import heatmap

__all__ = ["PipelineData", "feature_context", "model_event", "pipeline_context"]

_PROMOTED = re.compile(r"^v(\d+) (promoted|rejected)")
RECENT_WINDOWS = 26


def model_event(outcome: Any) -> tuple[str, str] | None:
    """("3", "promoted") from a run's model outcome line, or None when no model was decided.

    Examples
    --------
    >>> model_event("v3 promoted to production (rmsle 0.21 < 0.25)")
    ('3', 'promoted')
    >>> model_event("") is None
    True
    """
    match = _PROMOTED.match(str(outcome or ""))
    return (match[1], match[2]) if match else None


def window_decisions(
    records: list[dict[str, Any]],
) -> dict[tuple[str, str], tuple[str, str, str]]:
    """Each window's model decision — (version, decision, the run that made it) — from its
    latest run that decided one (``records`` newest first), so a re-run that failed or decided
    nothing does not hide an earlier promotion.

    Examples
    --------
    >>> runs = [{"run_id": r, "window_start": "2011-03-01", "window_end": "2011-03-31",
    ...          "model_outcome": m} for r, m in (("b", "retrain failed: MLflow is unreachable"),
    ...                                            ("a", "v13 promoted to production"))]
    >>> window_decisions(runs)
    {('2011-03-01', '2011-03-31'): ('13', 'promoted', 'a')}
    """
    decided: dict[tuple[str, str], tuple[str, str, str]] = {}
    for record in records:
        window = (str(record.get("window_start")), str(record.get("window_end")))
        event = model_event(record.get("model_outcome"))
        if event is not None and window not in decided:
            decided[window] = (*event, str(record["run_id"]))
    return decided


@dataclass
class PipelineData:
    """One pipeline's stores, opened once per server."""

    config: PipelineConfig

    @cached_property
    def url(self) -> str:
        return self.config.stores.warehouse.get_secret_value()

    @cached_property
    def history(self) -> HistoryStore:
        return HistoryStore(self.url)

    @cached_property
    def runs(self) -> RunStore:
        return RunStore(self.url)

    def recent(
        self, start: dt.date | None, end: dt.date | None, count: int = RECENT_WINDOWS
    ) -> tuple[list[dict[str, Any]], int]:
        """The last ``count`` windows that start in [start, end] (open ends: all), with their
        features, and how many windows the range holds."""
        name = self.config.pipeline
        rows = self.history.windows(name, start, end)
        if len(rows) > count:
            start = rows[-count]["window_start"]
        windows: list[dict[str, Any]] = self.history.history(name, start, end)["windows"]
        return windows, len(rows)

    def run_records(self, limit: int = 1000) -> list[dict[str, Any]]:
        return self.runs.runs(self.config.pipeline, limit)

    def summary(self, next_run: str | None) -> dict[str, Any]:
        """The overview's line for this pipeline."""
        name = self.config.pipeline
        windows = self.history.windows(name)
        production = next(
            (
                e
                for r in self.run_records()
                if (e := model_event(r.get("model_outcome"))) and e[1] == "promoted"
            ),
            None,
        )
        last = windows[-1] if windows else None
        return {
            "pipeline": name,
            "last": last,
            "shares": [w["share_drifted"] for w in windows[-RECENT_WINDOWS:]],
            "drift_share": last["drift_share"] if last else None,
            "next_run": next_run,
            "pending_alerts": self.pending_alerts(),
            "production": production[0] if production else None,
            "windows": len(windows),
        }

    def pending_alerts(self) -> int:
        """Alerts waiting in the outbox."""
        from driftloop.actions.outbox import OUTBOX

        query = sa.select(sa.func.count()).where(
            OUTBOX.c.pipeline == self.config.pipeline, OUTBOX.c.status == "pending"
        )
        try:
            with self.runs.engine.connect() as conn:
                return int(conn.execute(query).scalar_one())
        except sa.exc.SQLAlchemyError:  # no outbox yet: nothing was ever queued
            return 0

    def deliveries(self, run_id: str) -> list[dict[str, Any]]:
        """The run's alert per channel: status, attempts, when sent (never the error text)."""
        from driftloop.actions.outbox import OUTBOX

        columns = (OUTBOX.c.channel, OUTBOX.c.status, OUTBOX.c.attempts, OUTBOX.c.sent_at)
        try:
            with self.runs.engine.connect() as conn:
                query = sa.select(*columns).where(OUTBOX.c.run_id == run_id)
                return [dict(r) for r in conn.execute(query).mappings()]
        except sa.exc.SQLAlchemyError:
            return []

    def concept(self) -> list[dict[str, Any]]:
        """The concept result of every window (empty without concept monitoring)."""
        if self.config.concept is None:
            return []
        from driftloop.data.predictions import PredictionStore, concept_series

        return concept_series(PredictionStore(self.url), self.config.pipeline)

    def latest_report(self) -> dict[str, Any] | None:
        """The latest window's full JSON report (histograms included), when its file is there."""
        rows = self.history.windows(self.config.pipeline)
        path = rows[-1]["report_json"] if rows else None
        if not path or not Path(path).is_file():
            return None
        data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
        return data

    def model_card(self, record: dict[str, Any]) -> tuple[str, Path | None] | None:
        """The model card the run published: its URI, and the file when it is a local one
        inside this pipeline's ``stores.artifacts`` (so the dashboard may serve it)."""
        publish = next((s for s in record.get("steps", []) if s["step"] == "publish"), None)
        files = ((publish or {}).get("result") or {}).get("files", [])
        uri = next((f["uri"] for f in files if str(f["uri"]).endswith("/model_card.md")), None)
        if uri is None:
            return None
        folder = Path(self.config.stores.artifacts).resolve()
        path = None if "://" in uri else Path(uri).resolve()
        local = path if path and path.is_file() and path.is_relative_to(folder) else None
        return uri, local

    def model_card_text(self, record: dict[str, Any]) -> str | None:
        """The text of the run's published model card: the local file, or the object under
        this pipeline's ``s3://`` artifacts (None when the run published none there)."""
        card = self.model_card(record)
        if card is None:
            return None
        uri, local = card
        if local is not None:
            return local.read_text(encoding="utf-8")
        if not uri.startswith("s3://") or not self.config.stores.artifacts.startswith("s3://"):
            return None
        from driftloop.actions.publish import S3Publisher, publisher_for

        publisher = publisher_for(self.config.stores)
        assert isinstance(publisher, S3Publisher)
        body = publisher.read(uri)
        return None if body is None else body.decode("utf-8", errors="replace")

    def report_file(self, record: dict[str, Any]) -> Path | None:
        """The run's HTML report, only when it lies inside this pipeline's reports folder."""
        path = (record.get("verdict") or {}).get("report_html") or record.get("report_path")
        if not path:
            return None
        folder = Path(self.config.stores.reports).resolve()
        resolved = Path(path).resolve()
        if not resolved.is_file() or not resolved.is_relative_to(folder):
            return None
        return resolved


def pipeline_context(
    d: PipelineData, windows: list[dict[str, Any]], status: str, trigger: str, limit: int
) -> dict[str, Any]:
    """The pipeline page: heatmap, share drifted, concept metrics, model decisions, runs."""
    name = d.config.pipeline
    records = d.run_records()
    features = sorted({f for w in windows for f in w["features"]})
    labels = [w["start"] for w in windows]
    decided = window_decisions(records)
    events = [(w, decided.get((w["start"], w["end"]))) for w in windows]
    last = d.history.windows(name, dt.date.fromisoformat(windows[-1]["start"])) if windows else []
    drift_share = last[-1]["drift_share"] if last else None
    share_chart = line_chart(
        labels,
        {"share drifted": [w["share_drifted"] for w in windows]},
        title="share of features drifted per window (dataset drift at the dashed line)",
        baseline=drift_share,
        marks=[e is not None for _, e in events],
    )
    runs = [
        r
        for r in records
        if (not status or r["status"] == status) and (not trigger or r["trigger"] == trigger)
    ][:limit]
    for r in runs:
        r["duration"] = duration(r)
    return {
        "name": name,
        "windows": windows,
        "heatmap": heatmap(windows, features, f"/ui/pipelines/{quote(name)}/features/"),
        "share_chart": share_chart,
        "concept_charts": concept_charts(d.concept()),
        "performance": [w for w in windows if "performance" in w],
        "performance_chart": performance_chart(windows),
        "multivariate": multivariate_panels(windows),
        "segment_findings": segment_findings(windows),
        "segment_checks": sum(len(w.get("segments", [])) for w in windows),
        "events": [(w, e) for w, e in events if e is not None],
        "runs": runs,
        "status": status,
        "trigger": trigger,
        "statuses": sorted({r["status"] for r in records}),
        "triggers": sorted({r["trigger"] for r in records}),
    }


def performance_chart(windows: list[dict[str, Any]]) -> Any:
    """The production model's estimated metric per window (its interval shaded) beside the
    realized one where labels arrived; the reference's value dashed; drops ringed."""
    rows = [w for w in windows if "performance" in w and w["performance"]["estimated"] is not None]
    if not rows:
        return None
    last = rows[-1]["performance"]
    return line_chart(
        [w["start"] for w in rows],
        {
            f"estimated {last['metric']}": [w["performance"]["estimated"] for w in rows],
            f"realized {last['metric']}": [w["performance"]["realized"] for w in rows],
        },
        title=f"{last['metric']} per window: estimated (95% interval), realized",
        baseline=last["reference_value"],
        band=([w["performance"]["lower"] for w in rows], [w["performance"]["upper"] for w in rows]),
        marks=[bool(w["performance"]["dropped"]) for w in rows],
    )


def concept_charts(series: list[dict[str, Any]]) -> list[Any]:
    if not series:
        return []
    labels = [w["window_start"] for w in series]
    charts = []
    for metric in series[-1]["metrics"]:
        name = metric["name"]

        def value(w: dict[str, Any], key: str, name: str = name) -> Any:
            return next((m.get(key) for m in w["metrics"] if m["name"] == name), None)

        charts.append(
            line_chart(
                labels,
                {name: [value(w, "current") for w in series]},
                title=f"{name} per window (baseline dashed, 95% CI shaded)",
                baseline=metric["baseline"],
                band=([value(w, "ci_low") for w in series], [value(w, "ci_high") for w in series]),
                marks=[bool(value(w, "alerted")) for w in series],
            )
        )
    return charts


def feature_context(d: PipelineData, name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The feature page: its statistic over windows, the latest distribution comparison."""
    from driftloop.drift.results import Histogram
    from driftloop.report.html import histogram_svg

    labels = [r["window_start"].isoformat() for r in rows]
    last = rows[-1]
    tested = last["p_value"] is not None
    chart = line_chart(
        labels,
        {
            ("p-value" if tested else "statistic"): [
                r["p_value" if tested else "statistic"] for r in rows
            ]
        },
        title=f"{name}: {last['method']} {'p-value' if tested else 'statistic'} per window "
        "(threshold dashed)",
        baseline=last["threshold"],
        marks=[bool(r["drifted"]) for r in rows],
        log=tested,  # p-values span decades: 0.05 and 1e-12 apart, not both flat at 0
    )
    histogram = None
    report = d.latest_report()
    column = next((c for c in (report or {}).get("columns", []) if c["name"] == name), None)
    if column is not None and column.get("histogram"):
        h = column["histogram"]
        histogram = histogram_svg(
            Histogram(
                tuple(h["reference"]),
                tuple(h["current"]),
                tuple(h["edges"]) if h.get("edges") else None,
                tuple(h["labels"]) if h.get("labels") else None,
            )
        )
    return {
        "pipeline": d.config.pipeline,
        "name": name,
        "rows": rows,
        "chart": chart,
        "histogram": histogram,
    }


def duration(record: dict[str, Any]) -> str:
    if not record.get("finished_at"):
        return "-"
    started = dt.datetime.fromisoformat(record["started_at"])
    seconds = (dt.datetime.fromisoformat(record["finished_at"]) - started).total_seconds()
    return f"{seconds:.1f} s"
