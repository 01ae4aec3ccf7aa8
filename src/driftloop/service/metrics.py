"""Prometheus metrics of the loop: drift per feature, per multivariate method and per segment,
verdicts, runs, last success."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["LoopMetrics"]


class LoopMetrics:
    """Every metric in one registry of its own (no global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.statistic = Gauge(
            "driftloop_feature_drift_statistic",
            "Drift statistic of a feature in the last run",
            ["pipeline", "feature", "method"],
            registry=r,
        )
        self.p_value = Gauge(
            "driftloop_feature_drift_p_value",
            "P-value of a feature's test in the last run (tests only)",
            ["pipeline", "feature", "method"],
            registry=r,
        )
        self.drifted = Gauge(
            "driftloop_feature_drifted",
            "1 when the feature drifted in the last run",
            ["pipeline", "feature"],
            registry=r,
        )
        self.dataset_drift = Gauge(
            "driftloop_dataset_drift",
            "1 when the dataset drifted in the last run",
            ["pipeline"],
            registry=r,
        )
        self.share = Gauge(
            "driftloop_share_drifted",
            "Share of tested features that drifted",
            ["pipeline"],
            registry=r,
        )
        self.degradation = Gauge(
            "driftloop_degradation_alerts",
            "Degradation alerts in the last run",
            ["pipeline", "kind"],
            registry=r,
        )
        self.runs = Counter(
            "driftloop_runs", "Runs by final status", ["pipeline", "status"], registry=r
        )
        self.duration = Histogram(
            "driftloop_run_duration_seconds",
            "Wall time of a run",
            ["pipeline"],
            registry=r,
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
        )
        self.last_success = Gauge(
            "driftloop_last_success_timestamp_seconds",
            "When the last successful run ended",
            ["pipeline"],
            registry=r,
        )
        self.window_start = Gauge(
            "driftloop_window_start_timestamp_seconds",
            "Start of the window the drift gauges describe (its first day, 00:00 UTC)",
            ["pipeline"],
            registry=r,
        )
        self.window_end = Gauge(
            "driftloop_window_end_timestamp_seconds",
            "End of the window the drift gauges describe (the day after its last, 00:00 UTC)",
            ["pipeline"],
            registry=r,
        )
        self.webhooks = Counter(
            "driftloop_webhook_requests",
            "Webhook requests by outcome",
            ["pipeline", "outcome"],
            registry=r,
        )
        self.performance = Gauge(
            "driftloop_model_performance",
            "The production model's metric on the last window: estimated (with its interval's "
            "bounds) and, once labels arrived, realized",
            ["pipeline", "metric", "kind"],  # kind: estimated, lower, upper, realized, reference
            registry=r,
        )
        self.performance_drop = Gauge(
            "driftloop_model_performance_drop",
            "1 when the last window's performance dropped beyond its interval",
            ["pipeline", "metric"],
            registry=r,
        )
        self._multivariate_gauges(r)
        self._segment_gauges(r)
        self.pending_alerts = Gauge(
            "driftloop_pending_alerts", "Alerts waiting in the outbox", ["pipeline"], registry=r
        )

    def _multivariate_gauges(self, r: CollectorRegistry) -> None:
        labels = ["pipeline", "method"]
        self.mv_statistic = Gauge(
            "driftloop_multivariate_drift_statistic",
            "Statistic of a multivariate method in the last run",
            labels,
            registry=r,
        )
        self.mv_threshold = Gauge(
            "driftloop_multivariate_drift_threshold",
            "The multivariate method's threshold (the statistic above it: drift)",
            labels,
            registry=r,
        )
        self.mv_p_value = Gauge(
            "driftloop_multivariate_drift_p_value",
            "P-value of a multivariate method in the last run",
            labels,
            registry=r,
        )
        self.mv_drifted = Gauge(
            "driftloop_multivariate_drifted",
            "1 when the multivariate method found drift in the last run",
            labels,
            registry=r,
        )

    def _segment_gauges(self, r: CollectorRegistry) -> None:
        labels = ["pipeline", "segment", "value"]
        self.segment_share = Gauge(
            "driftloop_segment_share_drifted",
            "Share of tested features that drifted inside a segment (column = value)",
            labels,
            registry=r,
        )
        self.segment_drift = Gauge(
            "driftloop_segment_dataset_drift",
            "1 when the segment's features drifted as a dataset in the last run",
            labels,
            registry=r,
        )

    def record_run(
        self,
        pipeline: str,
        status: str,
        seconds: float,
        report_json: str | None,
        window: tuple[str, str] | None = None,
    ) -> None:
        """Count a finished run; its drift report (``report_json``), when there is one, sets
        the drift gauges."""
        self.runs.labels(pipeline, status).inc()
        self.duration.labels(pipeline).observe(seconds)
        if status == "succeeded":
            self.last_success.labels(pipeline).set(time.time())
        if report_json and Path(report_json).is_file():
            self.record_report(pipeline, json.loads(Path(report_json).read_text()))
            if window is not None:
                self.record_window(pipeline, *window)

    def record_window(self, pipeline: str, start: str, end: str) -> None:
        """Stamp the drift gauges with their window, so a replayed 2011 window reads as 2011
        (Grafana: ``driftloop_share_drifted`` at ``driftloop_window_end_timestamp_seconds``)."""
        try:
            first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError:  # a run without a window: no date to give
            return
        midnight = dt.time(tzinfo=dt.UTC)
        self.window_start.labels(pipeline).set(dt.datetime.combine(first, midnight).timestamp())
        after = last + dt.timedelta(days=1)
        self.window_end.labels(pipeline).set(dt.datetime.combine(after, midnight).timestamp())

    def record_report(self, pipeline: str, report: dict[str, Any]) -> None:
        self.dataset_drift.labels(pipeline).set(1 if report["dataset_drift"] else 0)
        self.share.labels(pipeline).set(report["share_drifted"])
        for column in report["columns"]:
            if column["statistic"] is not None:
                self.statistic.labels(pipeline, column["name"], column["method"]).set(
                    column["statistic"]
                )
            if column["p_value"] is not None:
                self.p_value.labels(pipeline, column["name"], column["method"]).set(
                    column["p_value"]
                )
            self.drifted.labels(pipeline, column["name"]).set(1 if column["drifted"] else 0)
        self._record_performance(pipeline, report.get("performance"))
        self._record_multivariate(pipeline, report.get("multivariate") or [])
        self._record_segments(pipeline, report.get("segments") or [])
        kinds: dict[str, int] = {}
        for alert in report["degradation"]:
            kinds[alert["kind"]] = kinds.get(alert["kind"], 0) + 1
        for kind in (
            "missing_feature",
            "dtype_change",
            "null_rate",
            "non_finite",
            "constant",
            "variance_collapse",
            "cardinality_collapse",
            "new_categories",
            "out_of_range",
        ):
            self.degradation.labels(pipeline, kind).set(kinds.get(kind, 0))

    def _record_performance(self, pipeline: str, section: dict[str, Any] | None) -> None:
        """The performance gauges, from the report's section (nothing when not estimated)."""
        if not section or "skipped" in section:
            return
        metric, realized = section["metric"], section.get("realized") or {}
        values = {
            "estimated": section["value"],
            "lower": section["lower"],
            "upper": section["upper"],
            "reference": section["reference_value"],
            "realized": realized.get("value"),
        }
        for kind, value in values.items():
            if value is not None:
                self.performance.labels(pipeline, metric, kind).set(value)
        dropped = section["alert"] or bool(realized.get("alert"))
        self.performance_drop.labels(pipeline, metric).set(1 if dropped else 0)

    def _record_multivariate(self, pipeline: str, methods: list[dict[str, Any]]) -> None:
        """Each tested method's gauges (a method skipped in this window keeps none)."""
        for method in methods:
            name = method["method"]
            for gauge in (self.mv_statistic, self.mv_threshold, self.mv_p_value, self.mv_drifted):
                _forget(gauge, pipeline, name)
            if method.get("skipped"):
                continue
            for gauge, key in (
                (self.mv_statistic, "statistic"),
                (self.mv_threshold, "threshold"),
                (self.mv_p_value, "p_value"),
            ):
                if method.get(key) is not None:
                    gauge.labels(pipeline, name).set(method[key])
            self.mv_drifted.labels(pipeline, name).set(1 if method["drifted"] else 0)

    def _record_segments(self, pipeline: str, segments: list[dict[str, Any]]) -> None:
        """Each tested segment's gauges (a segment skipped in this window keeps none)."""
        for segment in segments:
            where = (pipeline, segment["column"], str(segment["value"]))
            _forget(self.segment_share, *where)
            _forget(self.segment_drift, *where)
            if segment.get("skipped"):
                continue
            self.segment_share.labels(*where).set(segment["share_drifted"])
            self.segment_drift.labels(*where).set(1 if segment["dataset_drift"] else 0)


def _forget(gauge: Gauge, *labels: str) -> None:
    """Drop a label set's earlier value (a skipped method or segment reports none)."""
    try:
        gauge.remove(*labels)
    except KeyError:
        pass
