"""The history tables and their schema version.

- ``driftloop_history_windows``: one row per run that judged a window (share drifted, the
  dataset verdict, degradation alerts, the report's path); ``superseded`` marks every run of a
  window but the latest.
- ``driftloop_history_features``: one row per run and feature (method, statistic, p-value,
  threshold, verdict, sample sizes, null share).
- ``driftloop_schema``: the schema version of each group of driftloop tables and the driftloop
  version that wrote it, so an older driftloop refuses tables it does not understand.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["FEATURES", "METADATA", "SCHEMA", "SCHEMA_VERSION", "WINDOWS"]

SCHEMA_VERSION = 1

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
