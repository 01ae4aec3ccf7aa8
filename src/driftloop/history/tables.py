"""The history tables and their schema version.

- ``driftloop_history_windows``: one row per run that judged a window (share drifted, the
  dataset verdict, degradation alerts, the report's path); ``superseded`` marks every run of a
  window but the latest.
- ``driftloop_history_features``: one row per run and feature (method, statistic, p-value,
  threshold, verdict, sample sizes, null share).
- ``driftloop_history_multivariate`` (version 2): one row per run and multivariate method
  (statistic, threshold, p-value, verdict, the attributed features as a JSON list, skip reason).
- ``driftloop_history_segments`` (version 2): one row per run and segment (column = value): its
  sample sizes, skip reason, share drifted, verdict, the drifted features and each feature's
  result as JSON.
- ``driftloop_history_performance`` (version 3): one row per run with a ``performance``
  section: the production version, the metric, the estimate with its interval, the reference's
  value, whether it dropped, and the realized metric with its interval once labels arrived (or
  why the window was not estimated).
- ``driftloop_schema``: the schema version of each group of driftloop tables and the driftloop
  version that wrote it, so an older driftloop refuses tables it does not understand.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "FEATURES",
    "METADATA",
    "MULTIVARIATE",
    "PERFORMANCE",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SEGMENTS",
    "WINDOWS",
]

SCHEMA_VERSION = 3  # 2: the multivariate and segment tables; 3: the performance table

METADATA = sa.MetaData()
SCHEMA = sa.Table(
    "driftloop_schema",
    METADATA,
    sa.Column("component", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("written_by", sa.Text, nullable=False),
)
WINDOWS = sa.Table(
    "driftloop_history_windows",
    METADATA,
    sa.Column("run_id", sa.String(100), primary_key=True),
    sa.Column("pipeline", sa.Text, nullable=False),
    sa.Column("window_start", sa.Date, nullable=False),
    sa.Column("window_end", sa.Date, nullable=False),
    sa.Column("run_at", sa.DateTime, nullable=False),
    sa.Column("source", sa.String(10), nullable=False),  # run or import
    sa.Column("superseded", sa.Boolean, nullable=False),
    sa.Column("dataset_drift", sa.Boolean, nullable=False),
    sa.Column("drift_share", sa.Float, nullable=False),
    sa.Column("share_drifted", sa.Float, nullable=False),
    sa.Column("n_tested", sa.Integer, nullable=False),
    sa.Column("n_drifted", sa.Integer, nullable=False),
    sa.Column("reference_rows", sa.Integer),
    sa.Column("current_rows", sa.Integer),
    sa.Column("degradation", sa.Text, nullable=False),  # JSON list of {feature, kind, message}
    sa.Column("report_json", sa.Text),
    sa.Index("driftloop_history_windows_by_window", "pipeline", "window_start", "window_end"),
)
FEATURES = sa.Table(
    "driftloop_history_features",
    METADATA,
    sa.Column("run_id", sa.String(100), primary_key=True),
    sa.Column("feature", sa.Text, primary_key=True),
    sa.Column("pipeline", sa.Text, nullable=False),
    sa.Column("window_start", sa.Date, nullable=False),
    sa.Column("window_end", sa.Date, nullable=False),
    sa.Column("superseded", sa.Boolean, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("method", sa.String(40), nullable=False),
    sa.Column("statistic", sa.Float),
    sa.Column("p_value", sa.Float),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("drifted", sa.Boolean, nullable=False),
    sa.Column("n_reference", sa.Integer, nullable=False),
    sa.Column("n_current", sa.Integer, nullable=False),
    sa.Column("null_share", sa.Float),
    sa.Column("skipped", sa.Text),
    sa.Index("driftloop_history_features_by_feature", "pipeline", "feature", "window_start"),
)
MULTIVARIATE = sa.Table(
    "driftloop_history_multivariate",
    METADATA,
    sa.Column("run_id", sa.String(100), primary_key=True),
    sa.Column("method", sa.String(40), primary_key=True),
    sa.Column("pipeline", sa.Text, nullable=False),
    sa.Column("window_start", sa.Date, nullable=False),
    sa.Column("window_end", sa.Date, nullable=False),
    sa.Column("superseded", sa.Boolean, nullable=False),
    sa.Column("statistic", sa.Float),
    sa.Column("threshold", sa.Float),
    sa.Column("p_value", sa.Float),
    sa.Column("drifted", sa.Boolean, nullable=False),
    sa.Column("top_features", sa.Text, nullable=False),  # JSON list, most responsible first
    sa.Column("n_reference", sa.Integer, nullable=False),
    sa.Column("n_current", sa.Integer, nullable=False),
    sa.Column("skipped", sa.Text),
    sa.Index("driftloop_history_multivariate_by_window", "pipeline", "window_start"),
)
SEGMENTS = sa.Table(
    "driftloop_history_segments",
    METADATA,
    sa.Column("run_id", sa.String(100), primary_key=True),
    sa.Column("segment", sa.Text, primary_key=True),  # the segment column
    sa.Column("value", sa.Text, primary_key=True),  # its value, as text
    sa.Column("pipeline", sa.Text, nullable=False),
    sa.Column("window_start", sa.Date, nullable=False),
    sa.Column("window_end", sa.Date, nullable=False),
    sa.Column("superseded", sa.Boolean, nullable=False),
    sa.Column("n_reference", sa.Integer, nullable=False),
    sa.Column("n_current", sa.Integer, nullable=False),
    sa.Column("skipped", sa.Text),
    sa.Column("share_drifted", sa.Float, nullable=False),
    sa.Column("dataset_drift", sa.Boolean, nullable=False),
    sa.Column("drifted", sa.Text, nullable=False),  # JSON list of the drifted features
    sa.Column("columns", sa.Text, nullable=False),  # JSON list of {name, method, statistic, ...}
    sa.Index("driftloop_history_segments_by_window", "pipeline", "window_start"),
)
PERFORMANCE = sa.Table(
    "driftloop_history_performance",
    METADATA,
    sa.Column("run_id", sa.String(100), primary_key=True),
    sa.Column("pipeline", sa.Text, nullable=False),
    sa.Column("window_start", sa.Date, nullable=False),
    sa.Column("window_end", sa.Date, nullable=False),
    sa.Column("superseded", sa.Boolean, nullable=False),
    sa.Column("metric", sa.String(20), nullable=False),
    sa.Column("model_version", sa.Integer),
    sa.Column("estimated", sa.Float),
    sa.Column("lower", sa.Float),
    sa.Column("upper", sa.Float),
    sa.Column("reference_value", sa.Float),
    sa.Column("dropped", sa.Boolean, nullable=False),
    sa.Column("realized", sa.Float),
    sa.Column("realized_lower", sa.Float),
    sa.Column("realized_upper", sa.Float),
    sa.Column("realized_dropped", sa.Boolean),
    sa.Column("n_rows", sa.Integer),
    sa.Column("n_labelled", sa.Integer),
    sa.Column("skipped", sa.Text),
    sa.Index("driftloop_history_performance_by_window", "pipeline", "window_start"),
)
