"""Every bad input is one clear line: a table of command lines and file contents, each expected to
exit 2 with one stderr line naming the thing and the bad value, no traceback, and nothing written.

Each case runs in a fresh folder holding good data (``ref.csv``, ``cur.csv``, ``preds.csv``,
``outcomes.csv``) and a good ``driftloop.yaml`` (SQLite stores in the folder), changed as the case
says; ``setup`` commands run first (e.g. a first append), then the folder is snapshotted, and after
the command every file in it must be byte for byte what it was (no table, file or run record
written). A few cases run ``driftloop`` as a subprocess, as a shell would.
"""

from __future__ import annotations

import copy
import hashlib
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from driftloop.cli import app

BASE: dict[str, Any] = {
    "pipeline": "bikes",
    "reference": {"uri": "ref.csv"},
    "current": {"uri": "cur.csv", "date_column": "day"},
    "on_drift": {"retrain": False, "publish": False},
}
TRAINED = {
    "on_drift": {"retrain": True, "publish": True},
    "training": {"target": "cnt", "time_column": "day"},
    "model": {"name": "bikes-model"},
}


def _rows(first: int, last: int) -> str:
    return "".join(
        f"2024-01-{d:02d},{0.1 * d:.1f},{100 + d},{'ab'[d % 2]}\n" for d in range(first, last + 1)
    )


def _plain_parquet() -> bytes:
    """A Parquet file without driftloop's profile metadata."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"temp": [1.0, 2.0]}), buffer)
    return buffer.getvalue()


FILES = {
    "ref.csv": "day,temp,cnt,city\n" + _rows(1, 20),
    "cur.csv": "day,temp,cnt,city\n" + _rows(10, 28),
    "preds.csv": "id,prediction,ts\np1,1.5,2024-01-02T10:00:00\np2,2.5,2024-01-03T10:00:00\n",
    "outcomes.csv": "id,actual\np1,1.0\np2,2.0\n",
}


@dataclass(frozen=True)
class Case:
    """``argv`` with ``{ws}`` for the case's folder; ``expect``: parts of the one stderr line."""

    id: str
    argv: list[str]
    expect: tuple[str, ...]
    config: dict[str, Any] = field(default_factory=dict)  # dotted key -> value (None: delete)
    config_text: str | None = None  # the whole driftloop.yaml instead
    files: dict[str, str | bytes] = field(default_factory=dict)
    setup: list[list[str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def _set(raw: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value


CFG = ["-c", "{ws}/driftloop.yaml"]
CHECK = ["config", "check", *CFG]
WH = "sqlite:///{ws}/wh.db"
APPEND = ["warehouse", "append", "{ws}/cur.csv", "--url", WH, "--pipeline", "bikes"]
JAN = ["--start", "2024-01-10", "--end", "2024-01-28"]


def check(case_id: str, key: str, value: Any, *expect: str) -> Case:
    """A ``config check`` of the base config with ``key`` set to ``value``."""
    return Case(f"config-{case_id}", CHECK, expect or (key,), config={key: value})


CASES = [
    # ---- detect: files --------------------------------------------------------------------
    Case("detect-missing-reference", ["detect", "{ws}/nope.csv", "{ws}/cur.csv"], ("nope.csv",)),
    Case("detect-missing-current", ["detect", "{ws}/ref.csv", "{ws}/gone.csv"], ("gone.csv",)),
    Case(
        "detect-unknown-format",
        ["detect", "{ws}/ref.xlsx", "{ws}/cur.csv"],
        ("ref.xlsx",),
        files={"ref.xlsx": "PK\x03\x04"},
    ),
    Case(
        "detect-header-only",
        ["detect", "{ws}/ref.csv", "{ws}/empty.csv"],
        ("current file", "empty.csv", "no rows"),
        files={"empty.csv": "day,temp,cnt,city\n"},
    ),
    Case(
        "detect-zero-bytes",
        ["detect", "{ws}/ref.csv", "{ws}/zero.csv"],
        ("zero.csv",),
        files={"zero.csv": ""},
    ),
    Case(
        "detect-parquet-not-parquet",
        ["detect", "{ws}/ref.csv", "{ws}/fake.parquet"],
        ("fake.parquet",),
        files={"fake.parquet": "day,temp\n1,2\n"},
    ),
    Case(
        "detect-duplicate-columns",
        ["detect", "{ws}/dup.csv", "{ws}/cur.csv"],
        ("temp",),
        files={"dup.csv": "day,temp,temp\n2024-01-01,1,2\n2024-01-02,3,4\n"},
    ),
    Case(
        "detect-text-in-numeric-strict",
        ["detect", "{ws}/ref.csv", "{ws}/text.csv", "--config", "{ws}/d.yaml"],
        ("temp",),
        files={
            "text.csv": "day,temp,cnt,city\n2024-01-01,warm,1,a\n2024-01-02,cold,2,b\n",
            "d.yaml": "strict_schema: true\n",
        },
    ),
    Case(
        "detect-tab-separated-csv",
        ["detect", "{ws}/tabs.csv", "{ws}/cur.csv"],
        ("tabs.csv", "tab-separated"),
        files={"tabs.csv": "day\ttemp\n2024-01-01\t1.0\n2024-01-02\t1.5\n"},
    ),
    Case(
        "detect-header-bad-byte",
        ["detect", "{ws}/ref.csv", "{ws}/latin.csv"],
        ("latin.csv", "not valid UTF-8", "UTF-8"),
        files={"latin.csv": b"day,temp,cnt,\xe9city\n2024-01-01,1.0,2,a\n2024-01-02,1.5,3,b\n"},
    ),
    Case(
        "detect-empty-reference-column",
        ["detect", "{ws}/hollow.csv", "{ws}/cur.csv"],
        ("'city'", "reference", "no valid values"),
        files={"hollow.csv": "day,temp,cnt,city\n2024-01-01,1.0,2,\n2024-01-02,1.5,3,\n"},
    ),
    Case(
        "detect-nothing-compared",
        ["detect", "{ws}/days.csv", "{ws}/days.csv", "--fail-on-drift"],
        ("No feature could be compared", "day"),
        files={"days.csv": "day\n2024-01-01\n2024-01-02\n2024-01-03\n"},
    ),
    Case(
        "detect-profile-not-a-profile",
        ["detect", "{ws}/plain.profile", "{ws}/cur.csv"],
        ("plain.profile", "not a driftloop profile"),
        files={"plain.profile": _plain_parquet()},
    ),
    Case(
        "detect-profile-folder",
        ["detect", "{ws}/ref.profile/", "{ws}/cur.csv"],
        ("ref.profile", "is a folder, not a profile file"),
        files={"ref.profile/part.txt": "x"},
    ),
    Case(
        "detect-no-shared-columns",
        ["detect", "{ws}/ref.csv", "{ws}/other.csv"],
        ("column",),
        files={"other.csv": "a,b\n1,2\n3,4\n"},
    ),
    Case(
        "detect-unknown-column",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--columns", "temp,nope"],
        ("nope",),
    ),
    Case(
        "detect-empty-columns",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--columns", ","],
        ("--columns",),
    ),
    Case(
        "detect-json-unwritable",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--json", "/proc/driftloop/r.json"],
        ("/proc/driftloop/r.json",),
    ),
    Case(
        "detect-html-is-a-folder",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--html", "{ws}"],
        ("HTML report", "{ws}"),
    ),
    Case(
        "detect-json-html-same-file",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--json", "{ws}/r.out", "--html", "{ws}/r.out"],
        ("r.out",),
    ),
    Case(
        "detect-config-missing",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/nope.yaml"],
        ("nope.yaml",),
    ),
    Case(
        "detect-config-bad-method",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("method", "wobble"),
        files={"d.yaml": "method: wobble\n"},
    ),
    Case(
        "detect-config-bad-drift-share",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("drift_share", "1.5"),
        files={"d.yaml": "detection: {drift_share: 1.5}\n"},
    ),
    Case(
        "detect-config-bad-column-method",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("temp", "ks2"),
        files={"d.yaml": "columns: {temp: {method: ks2}}\n"},
    ),
    Case(
        "detect-config-unknown-key",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("treshold",),
        files={"d.yaml": "treshold: 0.1\n"},
    ),
    Case(
        "detect-config-bad-psi-bins",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("psi_bins", "1"),
        files={"d.yaml": "psi_bins: 1\n"},
    ),
    Case(
        "detect-config-bad-nonfinite",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("nonfinite", "keep"),
        files={"d.yaml": "nonfinite: keep\n"},
    ),
    Case(
        "detect-config-bad-kind",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("temp", "ordinal"),
        files={"d.yaml": "columns: {temp: {kind: ordinal}}\n"},
    ),
    Case(
        "detect-config-a-list",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("d.yaml", "mapping", "list"),
        files={"d.yaml": "- method: ks\n"},
    ),
    Case(
        "detect-config-threshold-range",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("thresholds.ks", "2.0"),
        files={"d.yaml": "thresholds: {ks: 2}\n"},
    ),
    Case(
        "detect-config-threshold-without-method",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("temp", "-1.0"),
        files={"d.yaml": "columns: {temp: {threshold: -1}}\n"},
    ),
    Case(
        "detect-semicolons",
        ["detect", "{ws}/semi.csv", "{ws}/cur.csv"],
        ("semi.csv", "';'-separated", "'a;b'", "comma-separated"),
        files={"semi.csv": "a;b\n1;2\n"},
    ),
    Case(
        "detect-url-bad-port",
        ["detect", "http://127.0.0.1:notaport/ref.csv", "{ws}/cur.csv"],
        ("notaport",),
    ),
    Case(
        "detect-url-refused",
        ["detect", "http://127.0.0.1:9/ref.csv", "{ws}/cur.csv"],
        ("127.0.0.1:9",),
    ),
    Case("detect-ftp-url", ["detect", "ftp://example.org/ref.csv", "{ws}/cur.csv"], ("ftp",)),
    # ---- config check: every section -----------------------------------------------------
    check("pipeline-name", "pipeline", "bad name!", "pipeline", "bad name!"),
    check("pipeline-missing", "pipeline", None, "pipeline"),
    check("reference-missing", "reference", None, "reference"),
    check("reference-both", "reference.url", "sqlite:///x.db", "reference"),
    check("reference-neither", "reference.uri", None, "reference"),
    check("reference-db-no-table", "reference", {"url": "sqlite:///x.db"}, "reference"),
    check(
        "reference-sql-table",
        "reference",
        {"url": "sqlite:///x.db", "table": "ref; DROP TABLE runs"},
        "reference.table",
        "ref; DROP TABLE runs",
    ),
    check("reference-lag-zero", "reference.lag_days", 0, "reference.lag_days", "0"),
    check("reference-lag-no-date", "reference.lag_days", 364, "lag_days"),
    check("reference-rebuild-alone", "reference.rebuild", "auto", "'rebuild'", "'profile"),
    check("reference-rebuild-value", "reference.rebuild", "sometimes", "rebuild", "sometimes"),
    check("reference-profile-http", "reference.profile", "https://host/r.profile", "s3://"),
    check(
        "reference-updated-column-no-profile",
        "reference.updated_column",
        "updated_at",
        "'updated_column'",
        "'url' and 'profile'",
    ),
    check("reference-updated-column-blank", "reference.updated_column", " ", "updated_column"),
    Case(
        "config-reference-profile-moving-baseline",
        CHECK,
        ("stored profile", "'lag' baseline"),
        config={
            "reference": {
                "uri": "ref.csv",
                "date_column": "day",
                "lag_days": 7,
                "profile": "r.profile",
            }
        },
    ),
    check(
        "baseline-unknown-type",
        "reference",
        {"uri": "ref.csv", "date_column": "day", "baseline": {"type": "seasonal"}},
        "reference.baseline.type",
        "seasonal",
    ),
    check(
        "baseline-years-zero",
        "reference",
        {"uri": "ref.csv", "date_column": "day", "baseline": {"type": "same_period", "years": 0}},
        "years = 0",
    ),
    check(
        "baseline-exclude-reversed",
        "reference",
        {
            "uri": "ref.csv",
            "date_column": "day",
            "baseline": {"exclude": [{"start": "2024-02-01", "end": "2024-01-01"}]},
        },
        "2024-01-01",
        "swap",
    ),
    check(
        "baseline-exclude-overlap",
        "reference",
        {
            "uri": "ref.csv",
            "date_column": "day",
            "baseline": {
                "exclude": [
                    {"start": "2024-01-01", "end": "2024-01-10"},
                    {"start": "2024-01-05", "end": "2024-01-20"},
                ]
            },
        },
        "overlap",
    ),
    check(
        "baseline-on-current",
        "current",
        {"uri": "cur.csv", "date_column": "day", "baseline": {"type": "lag", "days": 7}},
        "current.baseline",
        "under reference",
    ),
    check(
        "baseline-and-lag",
        "reference",
        {"uri": "ref.csv", "date_column": "day", "lag_days": 364, "baseline": {"type": "fixed"}},
        "lag_days or baseline",
    ),
    check("current-ftp", "current.uri", "ftp://example.org/x.csv", "current.uri", "ftp://"),
    check("current-port", "current.uri", "http://h:notaport/x.csv", "current.uri", "h:notaport"),
    check("current-no-host", "current.uri", "https:///x.csv", "current.uri", "https:///x.csv"),
    check(
        "current-reversed",
        "current",
        {"uri": "cur.csv", "start": "2024-02-01", "end": "2024-01-01"},
        "current",
        "2024-01-01",
    ),
    check("current-bad-date", "current.start", "2024-13-01", "current.start", "2024-13-01"),
    check("columns-string", "columns", "temp", "columns", "temp"),
    check("columns-empty", "columns", [], "columns", "at least one column"),
    check("append-table", "append.table", "x y", "append.table", "x y"),
    check("append-conflict", "append.on_conflict", "merge", "append.on_conflict", "merge"),
    check("append-enabled", "append.enabled", "maybe", "append.enabled", "maybe"),
    check("when-bool", "on_drift.when.dataset_drift", "maybe", "dataset_drift", "maybe"),
    check("when-features", "on_drift.when.features", "temp", "features", "temp"),
    check("retrain-no-training", "on_drift.retrain", True, "on_drift.retrain", "training"),
    check("slack-not-url", "alerts.slack", {"webhook_url": "not-a-url"}, "webhook_url"),
    check(
        "slack-timeout",
        "alerts.slack",
        {"webhook_url": "https://hooks.slack.com/services/T0/B0/x", "timeout": 0.5},
        "alerts.slack.timeout",
        "0.5",
    ),
    check(
        "slack-retries",
        "alerts.slack",
        {"webhook_url": "https://hooks.slack.com/services/T0/B0/x", "retries": 11},
        "alerts.slack.retries",
        "11",
    ),
    check("webhook-ftp", "alerts.webhooks", [{"url": "ftp://x/y"}], "alerts.webhooks", "url"),
    check("cooldown", "alerts.cooldown_hours", -1, "alerts.cooldown_hours", "-1"),
    check("top-features", "alerts.top_features", 0, "alerts.top_features", "0"),
    check("alerts-console", "alerts.console", "loud", "alerts.console", "loud"),
    check(
        "concept-reversed",
        "concept",
        {"baseline": {"start": "2024-02-01", "end": "2024-01-01"}},
        "concept.baseline",
        "2024-01-01",
    ),
    check(
        "concept-task",
        "concept",
        {"task": "ranking", "baseline": {"start": "2024-01-01", "end": "2024-01-31"}},
        "concept.task",
        "ranking",
    ),
    check(
        "concept-metric",
        "concept",
        {"error_metric": "mape", "baseline": {"start": "2024-01-01", "end": "2024-01-31"}},
        "concept.error_metric",
        "mape",
    ),
    check(
        "concept-confidence",
        "concept",
        {"confidence": 1.5, "baseline": {"start": "2024-01-01", "end": "2024-01-31"}},
        "concept.confidence",
        "1.5",
    ),
    check(
        "concept-min-pairs",
        "concept",
        {"min_pairs": 1, "baseline": {"start": "2024-01-01", "end": "2024-01-31"}},
        "concept.min_pairs",
        "1",
    ),
    check(
        "concept-detector",
        "concept",
        {"detectors": ["nope"], "baseline": {"start": "2024-01-01", "end": "2024-01-31"}},
        "concept.detectors",
        "nope",
    ),
    check("concept-no-baseline", "concept", {"task": "regression"}, "concept.baseline"),
    Case(
        "config-training-no-target",
        CHECK,
        ("training.target",),
        config={**TRAINED, "training": {"time_column": "day"}},
    ),
    Case(
        "config-training-holdout",
        CHECK,
        ("training.holdout", "1.5"),
        config={**TRAINED, "training": {"target": "cnt", "holdout": 1.5}},
    ),
    Case(
        "config-training-margin",
        CHECK,
        ("training.margin", "2"),
        config={**TRAINED, "training": {"target": "cnt", "margin": 2}},
    ),
    Case(
        "config-trainer-missing-file",
        CHECK,
        ("nope.py",),
        config={**TRAINED, "training": {"target": "cnt", "entry_point": "nope.py:train"}},
    ),
    Case(
        "config-trainer-missing-function",
        CHECK,
        ("t.py", "fit"),
        config={**TRAINED, "training": {"target": "cnt", "entry_point": "t.py:fit"}},
        files={"t.py": "def train(X, y, params):\n    return None\n"},
    ),
    Case(
        "config-trainer-no-module",
        CHECK,
        ("no_such_module",),
        config={**TRAINED, "training": {"target": "cnt", "entry_point": "no_such_module:train"}},
    ),
    Case(
        "config-trainer-no-colon",
        CHECK,
        ("training entry point", "'train'"),
        config={**TRAINED, "training": {"target": "cnt", "entry_point": "train"}},
    ),
    Case(
        "config-model-slash",
        CHECK,
        ("model.name", "team/bikes"),
        config={**TRAINED, "model": {"name": "team/bikes"}},
    ),
    Case("config-model-empty", CHECK, ("model.name",), config={**TRAINED, "model": {"name": ""}}),
    Case("config-model-missing", CHECK, ("model",), config={**TRAINED, "model": None}),
    check("cron-minute", "schedule", {"cron": "61 * * * *"}, "schedule.cron", "61 * * * *"),
    check("cron-words", "schedule", {"cron": "every monday"}, "schedule.cron", "every monday"),
    check("cron-weekday", "schedule", {"cron": "0 11 * * FUNDAY"}, "schedule.cron", "FUNDAY"),
    check("timezone", "schedule", {"timezone": "Mars/Base"}, "schedule.timezone", "Mars/Base"),
    check("window-days", "schedule", {"window_days": 0}, "schedule.window_days", "0"),
    check("body-bytes", "webhook", {"max_body_bytes": 10}, "webhook.max_body_bytes", "10"),
    check("tolerance", "webhook", {"tolerance_seconds": 0}, "webhook.tolerance_seconds", "0"),
    check("body-timeout", "webhook", {"body_timeout_seconds": 301}, "body_timeout_seconds", "301"),
    check("s3-endpoint", "stores.s3_endpoint_url", "not-a-url", "s3_endpoint_url", "not-a-url"),
    check("s3-timeout", "stores.s3_timeout_seconds", 0, "stores.s3_timeout_seconds", "0"),
    check("s3-attempts", "stores.s3_attempts", 11, "stores.s3_attempts", "11"),
    check("warehouse-scheme", "stores.warehouse", "notadb://x", "stores.warehouse", "notadb"),
    check(
        "reference-url-port",
        "reference",
        {"url": "postgresql://u:pw-7@db:notaport/ml", "table": "reference"},
        "reference.url",
        "port",
    ),
    check("reports-base-url", "reports.base_url", "not-a-url", "reports.base_url", "not-a-url"),
    check("unknown-top-key", "schedul", {"cron": "0 11 * * MON"}, "schedul"),
    check("unknown-nested-key", "schedule", {"crn": "0 11 * * MON"}, "schedule.crn"),
    check("detection-method", "detection.method", "wobble", "detection.method", "wobble"),
    check("detection-threshold", "detection.thresholds", {"ks": "low"}, "thresholds", "low"),
    check("detection-workers", "detection.workers", 0, "detection.workers", "0"),
    check("degradation", "detection.degradation", {"null_rate": 2}, "null_rate", "2"),
    check(
        "multivariate-method",
        "detection.multivariate",
        {"methods": ["lof"]},
        "detection.multivariate.methods",
        "lof",
    ),
    check(
        "multivariate-one-column",
        "detection.multivariate",
        {"columns": ["temp"]},
        "detection.multivariate.columns",
        "at least 2",
    ),
    Case(
        "detect-segment-column-missing",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("Segment column 'region'", "reference", "detection.segments"),
        files={"d.yaml": "segments: [{column: region}]\n"},
    ),
    Case(
        "detect-segment-column-10000-values",
        ["detect", "{ws}/ids.csv", "{ws}/ids.csv", "--config", "{ws}/d.yaml"],
        ("Segment column 'id'", "10,000 distinct values", "at most 100"),
        files={
            "d.yaml": "segments: [{column: id}]\n",
            "ids.csv": "id,temp\n" + "".join(f"{i},{i % 7}\n" for i in range(10_000)),
        },
    ),
    Case(
        "detect-multivariate-unknown-column",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}/d.yaml"],
        ("nope", "detection.multivariate.columns"),
        files={"d.yaml": "multivariate: {columns: [temp, nope]}\n"},
    ),
    Case(
        "config-duplicate-key",
        CHECK,
        ("pipeline", "line 2"),
        config_text="pipeline: bikes\npipeline: other\nreference: {uri: ref.csv}\n",
    ),
    Case(
        "config-not-yaml",
        CHECK,
        ("driftloop.yaml", "YAML"),
        config_text="pipeline: [bikes\n",
    ),
    Case("config-a-list", CHECK, ("driftloop.yaml", "list"), config_text="- pipeline: bikes\n"),
    Case(
        "config-unset-env",
        CHECK,
        ("NO_SUCH_VAR",),
        config={"current.uri": "${NO_SUCH_VAR}"},
    ),
    Case("config-missing-file", ["config", "check", "-c", "{ws}/nope.yaml"], ("nope.yaml",)),
    # ---- warehouse seed / append ---------------------------------------------------------
    Case(
        "seed-missing-file",
        ["warehouse", "seed", "{ws}/nope.csv", "--url", WH],
        ("nope.csv",),
    ),
    Case(
        "seed-if-exists",
        ["warehouse", "seed", "{ws}/ref.csv", "--url", WH, "--if-exists", "merge"],
        ("--if-exists", "merge"),
    ),
    Case(
        "seed-table-sql",
        ["warehouse", "seed", "{ws}/ref.csv", "--url", WH, "--table", "ref;drop"],
        ("ref;drop",),
    ),
    Case(
        "seed-start-date",
        [
            "warehouse",
            "seed",
            "{ws}/ref.csv",
            "--url",
            WH,
            "--date-column",
            "day",
            "--start",
            "2024-02-30",
            "--end",
            "2024-03-01",
        ],
        ("--start", "2024-02-30"),
    ),
    Case(
        "seed-start-without-column",
        ["warehouse", "seed", "{ws}/ref.csv", "--url", WH, "--start", "2024-01-01"],
        ("--date-column",),
    ),
    Case(
        "seed-reversed",
        [
            "warehouse",
            "seed",
            "{ws}/ref.csv",
            "--url",
            WH,
            "--date-column",
            "day",
            "--start",
            "2024-01-20",
            "--end",
            "2024-01-01",
        ],
        ("2024-01-20", "2024-01-01"),
    ),
    Case(
        "seed-unknown-date-column",
        [
            "warehouse",
            "seed",
            "{ws}/ref.csv",
            "--url",
            WH,
            "--date-column",
            "dteday",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-05",
        ],
        ("dteday",),
    ),
    Case(
        "seed-bad-url",
        ["warehouse", "seed", "{ws}/ref.csv", "--url", "notadb://x"],
        ("notadb://x",),
    ),
    Case(
        "seed-url-password-hidden",
        ["warehouse", "seed", "{ws}/ref.csv", "--url", "postgresql://u:pw-9@127.0.0.1:9/db"],
        ("postgresql://u:***@127.0.0.1:9/db",),
    ),
    Case(
        "seed-table-exists",
        ["warehouse", "seed", "{ws}/ref.csv", "--url", WH],
        ("reference", "--if-exists"),
        setup=[["warehouse", "seed", "{ws}/ref.csv", "--url", WH]],
    ),
    Case(
        "seed-empty-period",
        [
            "warehouse",
            "seed",
            "{ws}/ref.csv",
            "--url",
            WH,
            "--date-column",
            "day",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-31",
        ],
        ("2025-01-01", "2025-01-31"),
    ),
    Case("append-bad-start", [*APPEND, "--start", "Jan 10", "--end", "2024-01-28"], ("Jan 10",)),
    Case(
        "append-reversed",
        [*APPEND, "--date-column", "day", "--start", "2024-01-28", "--end", "2024-01-10"],
        ("2024-01-28", "2024-01-10"),
    ),
    Case(
        "append-on-conflict",
        [*APPEND, *JAN, "--date-column", "day", "--on-conflict", "merge"],
        ("--on-conflict", "merge"),
    ),
    Case("append-no-date-column", [*APPEND, *JAN], ("--date-column", "--whole-file")),
    Case(
        "append-unknown-date-column",
        [*APPEND, *JAN, "--date-column", "dteday"],
        ("dteday",),
    ),
    Case(
        "append-rows-outside",
        [
            *APPEND,
            "--start",
            "2024-01-10",
            "--end",
            "2024-01-15",
            "--date-column",
            "day",
            "--whole-file",
        ],
        ("--date-column", "--whole-file", "not both"),
    ),
    Case(
        "append-pipeline-name",
        [
            "warehouse",
            "append",
            "{ws}/cur.csv",
            "--url",
            WH,
            "--pipeline",
            "a b",
            *JAN,
            "--date-column",
            "day",
        ],
        ("a b",),
    ),
    Case(
        "append-table",
        [*APPEND, *JAN, "--date-column", "day", "--table", "cur rent"],
        ("cur rent",),
    ),
    Case(
        "append-empty-window",
        [*APPEND, "--start", "2025-01-01", "--end", "2025-01-31", "--date-column", "day"],
        ("2025-01-01", "2025-01-31"),
    ),
    Case(
        "append-overlap",
        [*APPEND, "--start", "2024-01-20", "--end", "2024-01-28", "--date-column", "day"],
        ("2024-01-20", "2024-01-10"),
        setup=[[*APPEND, "--start", "2024-01-10", "--end", "2024-01-25", "--date-column", "day"]],
    ),
    Case(
        "append-text-in-numeric",
        [
            "warehouse",
            "append",
            "{ws}/t.csv",
            "--url",
            WH,
            "--pipeline",
            "bikes",
            *JAN,
            "--date-column",
            "day",
        ],
        ("temp",),
        files={"t.csv": "day,temp,cnt,city\n2024-01-10,warm,1,a\n"},
        setup=[
            [*APPEND, "--start", "2024-01-01", "--end", "2024-01-09", "--whole-file"],
        ],
    ),
    # ---- feedback -------------------------------------------------------------------------
    Case(
        "predictions-missing-file",
        ["feedback", "predictions", "{ws}/nope.csv", *CFG],
        ("nope.csv",),
    ),
    Case(
        "predictions-id-column",
        ["feedback", "predictions", "{ws}/preds.csv", *CFG, "--id-column", "key"],
        ("key",),
    ),
    Case(
        "predictions-text",
        ["feedback", "predictions", "{ws}/p.csv", *CFG],
        ("prediction", "high"),
        files={"p.csv": "id,prediction,ts\np1,high,2024-01-02T10:00:00\n"},
    ),
    Case(
        "predictions-yesterday",
        ["feedback", "predictions", "{ws}/p.csv", *CFG],
        ("yesterday",),
        files={"p.csv": "id,prediction,ts\np1,1.5,yesterday\n"},
    ),
    Case(
        "predictions-infinite",
        ["feedback", "predictions", "{ws}/p.csv", *CFG],
        ("prediction", "inf"),
        files={"p.csv": "id,prediction,ts\np1,inf,2024-01-02T10:00:00\n"},
    ),
    Case(
        "predictions-empty",
        ["feedback", "predictions", "{ws}/p.csv", *CFG],
        ("p.csv",),
        files={"p.csv": "id,prediction,ts\n"},
    ),
    Case(
        "predictions-config-missing",
        ["feedback", "predictions", "{ws}/preds.csv", "-c", "{ws}/nope.yaml"],
        ("nope.yaml",),
    ),
    Case(
        "predictions-duplicate-ids",
        ["feedback", "predictions", "{ws}/p.csv", *CFG],
        ("Duplicate ids", "p1"),
        files={"p.csv": "id,prediction,ts\np1,1,2024-01-01\np1,2,2024-01-02\n"},
    ),
    Case(
        "predictions-numeric-timestamp",
        ["feedback", "predictions", "{ws}/p.csv", *CFG],
        ("ts", "12345"),
        files={"p.csv": "id,prediction,ts\np1,1,12345\n"},
    ),
    Case(
        "predictions-missing-id",
        ["feedback", "predictions", "{ws}/p.csv", *CFG],
        ("row 0", "'id'"),
        files={"p.csv": "id,prediction,ts\n,1,2024-01-01\n"},
    ),
    Case(
        "outcomes-actual-column",
        ["feedback", "outcomes", "{ws}/outcomes.csv", *CFG, "--actual-column", "truth"],
        ("truth",),
    ),
    Case(
        "outcomes-text",
        ["feedback", "outcomes", "{ws}/o.csv", *CFG],
        ("actual", "lots"),
        files={"o.csv": "id,actual\np1,lots\n"},
    ),
    Case(
        "outcomes-missing-id",
        ["feedback", "outcomes", "{ws}/o.csv", *CFG],
        ("id",),
        files={"o.csv": "key,actual\np1,1\n"},
    ),
    # ---- run, runs, step ------------------------------------------------------------------
    Case(
        "run-bad-start", ["run", *CFG, "--start", "2024-1-1", "--end", "2024-01-28"], ("2024-1-1",)
    ),
    Case("run-start-alone", ["run", *CFG, "--start", "2024-01-10"], ("--start", "--end")),
    Case(
        "run-reversed",
        ["run", *CFG, "--start", "2024-01-28", "--end", "2024-01-10"],
        ("2024-01-28", "2024-01-10"),
    ),
    Case("run-resume-path", ["run", *CFG, "--resume", "../../x"], ("../../x",)),
    Case("run-trigger", ["run", *CFG, "--trigger", "sometimes"], ("--trigger", "sometimes")),
    Case(
        "run-rebuild-profile-without-one",
        ["run", *CFG, *JAN, "--rebuild-profile"],
        ("--rebuild-profile", "reference.profile"),
    ),
    Case("run-config-missing", ["run", "-c", "{ws}/nope.yaml"], ("nope.yaml",)),
    Case(
        "runs-limit-negative",
        ["runs", *CFG, "--limit", "-1"],
        ("--limit", "-1"),
        setup=[["runs", *CFG]],
    ),
    Case(
        "runs-limit-zero",
        ["runs", *CFG, "--limit", "0"],
        ("--limit", "0"),
        setup=[["runs", *CFG]],
    ),
    Case("runs-limit-text", ["runs", *CFG, "--limit", "abc"], ("--limit", "abc")),
    Case(
        "runs-unknown-id",
        ["runs", *CFG, "no-such-run"],
        ("no-such-run",),
        setup=[["runs", *CFG]],
    ),
    Case("runs-id-path", ["runs", *CFG, "../etc"], ("../etc",), setup=[["runs", *CFG]]),
    Case("step-unknown", ["step", "fetch", *CFG], ("fetch",)),
    Case("step-run-id-path", ["step", "detect", *CFG, "--run-id", "../../x"], ("../../x",)),
    Case("step-run-id-slash", ["step", "detect", *CFG, "--run-id", "a/b"], ("a/b",)),
    Case(
        "step-bad-end",
        ["step", "fetch_reference", *CFG, "--start", "2024-01-01", "--end", "soon"],
        ("--end", "soon"),
    ),
    Case("step-bad-as-of", ["step", "fetch_reference", *CFG, "--as-of", "monday"], ("monday",)),
    # ---- calibrate ------------------------------------------------------------------------
    Case("calibrate-false-alarms", ["calibrate", *CFG, "--false-alarms", "0"], ("--false-alarms",)),
    Case(
        "calibrate-more-alarms-than-windows",
        ["calibrate", *CFG, "--false-alarms", "20", "--per-windows", "13"],
        ("--false-alarms", "20"),
    ),
    Case(
        "calibrate-per-windows", ["calibrate", *CFG, "--per-windows", "0"], ("--per-windows", "0")
    ),
    Case(
        "calibrate-window-rows", ["calibrate", *CFG, "--window-rows", "0"], ("--window-rows", "0")
    ),
    Case(
        "calibrate-simulations", ["calibrate", *CFG, "--simulations", "0"], ("--simulations", "0")
    ),
    # ---- model ----------------------------------------------------------------------------
    Case(
        "model-promote-version-text",
        ["model", "promote", "bikes-model", "latest", *CFG],
        ("latest",),
        config=TRAINED,
    ),
    Case(
        "model-show-version-negative",
        ["model", "show", "bikes-model", "-3", *CFG],
        ("-3",),
        config=TRAINED,
    ),
    Case(
        "model-list-bad-name",
        ["model", "list", "team/bikes", "--registry", "sqlite:///{ws}/ml.db"],
        ("team/bikes",),
    ),
    Case(
        "model-list-bad-registry",
        ["model", "list", "bikes-model", "--registry", "notascheme://x"],
        ("notascheme://x",),
    ),
    # ---- serve, export, init --------------------------------------------------------------
    Case("serve-port", ["serve", *CFG, "--port", "70000"], ("--port", "70000")),
    Case("serve-drain", ["serve", *CFG, "--drain-seconds", "0"], ("--drain-seconds", "0")),
    Case("serve-host", ["serve", *CFG, "--host", "not a host"], ("--host", "not a host")),
    Case(
        "export-namespace",
        ["export", "kestra", *CFG, "-o", "{ws}/flows", "--namespace", "A B"],
        ("--namespace", "A B"),
    ),
    Case("init-exists", ["init", "{ws}/driftloop.yaml"], ("driftloop.yaml", "--force")),
    Case("init-under-a-file", ["init", "{ws}/ref.csv/x.yaml"], ("ref.csv", "not a folder")),
    Case("demo-out-a-file", ["demo", "--out", "{ws}/ref.csv"], ("ref.csv", "is a file")),
    Case(
        "export-out-a-file",
        ["export", "kestra", *CFG, "-o", "{ws}/ref.csv/flows"],
        ("ref.csv", "is a file"),
    ),
    Case("config-check-a-folder", ["config", "check", "-c", "{ws}"], ("{ws}", "is a folder")),
    Case(
        "detect-config-a-folder",
        ["detect", "{ws}/ref.csv", "{ws}/cur.csv", "--config", "{ws}"],
        ("{ws}", "is a folder"),
    ),
]

# Run as a separate process, as from a shell (the console-script entry point, real stderr).
SUBPROCESS = {
    "detect-missing-reference",
    "config-cron-minute",
    "seed-if-exists",
    "runs-limit-text",
    "serve-port",
    "serve-drain",
    "serve-host",
    "step-run-id-path",
}


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else ""
        for p in sorted(folder.rglob("*"))
    }


def _workspace(tmp_path: Path, case: Case) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    for name, text in {**FILES, **case.files}.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            (ws / name).write_bytes(text)
        else:
            (ws / name).write_text(text)
    if case.config_text is not None:
        (ws / "driftloop.yaml").write_text(case.config_text)
    else:
        raw = copy.deepcopy(BASE)
        for key, value in case.config.items():
            _set(raw, key, copy.deepcopy(value))
        (ws / "driftloop.yaml").write_text(yaml.safe_dump(raw))
    return ws


def _argv(argv: list[str], ws: Path) -> list[str]:
    return [arg.replace("{ws}", str(ws)) for arg in argv]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_clear_line_and_writes_nothing(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _workspace(tmp_path, case)
    monkeypatch.chdir(ws)
    monkeypatch.delenv("DRIFTLOOP_WAREHOUSE_URL", raising=False)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    for setup in case.setup:
        done = runner.invoke(app, _argv(setup, ws))
        assert done.exit_code in (0, 1), done.output  # 1: the data drifted
    before = _snapshot(ws)
    if case.id in SUBPROCESS:
        proc = subprocess.run(
            [sys.executable, "-m", "driftloop", *_argv(case.argv, ws)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ws,
        )
        code, stderr, stdout = proc.returncode, proc.stderr, proc.stdout
    else:
        result = runner.invoke(app, _argv(case.argv, ws))
        code, stderr, stdout = result.exit_code, result.stderr, result.stdout
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), repr(result.exception)
    lines = stderr.strip().splitlines()
    assert code == 2, f"exit {code}; stdout={stdout!r}; stderr={stderr!r}"
    assert len(lines) == 1, f"not one line: {stderr!r}"
    (line,) = lines
    assert "Traceback" not in stderr + stdout
    expected = tuple(part.replace("{ws}", str(ws)) for part in case.expect)
    assert all(part in line for part in expected), f"{line!r} lacks one of {expected}"
    assert _snapshot(ws) == before, "the command wrote something"


def test_the_table_is_large_and_its_ids_unique() -> None:
    assert len(CASES) >= 100
    assert len({c.id for c in CASES}) == len(CASES)
    assert SUBPROCESS <= {c.id for c in CASES}


# ---- the HTTP API: `driftloop serve` as a real process ----------------------------------------

TOKEN = "hook-token-7"


@dataclass(frozen=True)
class Request:
    id: str
    method: str
    path: str
    status: int
    expect: tuple[str, ...]
    body: bytes = b""
    token: str | None = TOKEN


def _hook(case_id: str, body: bytes, status: int, *expect: str, **kw: Any) -> Request:
    return Request(case_id, "POST", "/hooks/bikes", status, expect, body, **kw)


REQUESTS = [
    Request("runs-limit-text", "GET", "/runs?limit=abc", 400, ("limit", "'abc'")),
    Request("runs-limit-negative", "GET", "/runs?limit=-1", 400, ("limit", "'-1'")),
    Request("runs-limit-zero", "GET", "/runs?limit=0", 400, ("limit", "'0'")),
    Request("runs-limit-huge", "GET", "/runs?limit=99999999999", 400, ("limit", "99999999999")),
    Request("runs-unknown-pipeline", "GET", "/runs?pipeline=cars", 404, ("cars",)),
    Request("run-unknown", "GET", "/runs/no-such-run", 404, ("no-such-run",)),
    # names no pipeline, not even the one asked for: a caller learns nothing of the others
    Request("hook-unknown-pipeline", "POST", "/hooks/cars", 404, ("unknown pipeline",), b"{}"),
    _hook("hook-no-token", b"{}", 401, "token", token=None),
    _hook("hook-wrong-token", b"{}", 401, "token", token="guess"),
    _hook("hook-not-json", b"{start: soon", 400, "invalid payload"),
    _hook(
        "hook-bad-start",
        b'{"start": "2024-13-01", "end": "2024-01-31"}',
        400,
        "start",
        "2024-13-01",
    ),
    _hook("hook-bad-end", b'{"start": "2024-01-01", "end": "tomorrow"}', 400, "end", "tomorrow"),
    _hook("hook-start-alone", b'{"start": "2024-01-01"}', 400, "'start' and 'end'"),
    _hook("hook-start-number", b'{"start": 20240101, "end": "2024-01-31"}', 400, "'start'"),
    _hook(
        "hook-reversed",
        b'{"start": "2024-01-31", "end": "2024-01-01"}',
        400,
        "2024-01-01",
        "2024-01-31",
    ),
    _hook("hook-too-large", b'{"pad": "' + b"x" * 2048 + b'"}', 413, "1024"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import socket
    import time

    import httpx

    ws = tmp_path_factory.mktemp("serve")
    for name, text in FILES.items():
        (ws / name).write_text(text)
    raw = {**copy.deepcopy(BASE), "webhook": {"token": "${HOOK_TOKEN}", "max_body_bytes": 1024}}
    (ws / "driftloop.yaml").write_text(yaml.safe_dump(raw))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [sys.executable, "-m", "driftloop", "serve", "-c", "driftloop.yaml"]
    env = {**__import__("os").environ, "HOOK_TOKEN": TOKEN}
    log = (ws / "serve.log").open("wb")
    proc = subprocess.Popen(
        [*argv, "--port", str(port)], cwd=ws, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/healthz", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            assert proc.poll() is None and time.monotonic() < deadline, (
                ws / "serve.log"
            ).read_text()
            time.sleep(0.2)
    yield url, ws
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.mark.parametrize("request_case", REQUESTS, ids=[r.id for r in REQUESTS])
def test_bad_http_request_is_a_clear_4xx_and_starts_nothing(
    server: Any, request_case: Request
) -> None:
    import httpx

    from driftloop.config import load_config
    from driftloop.pipeline.records import RunStore

    url, ws = server
    store = RunStore(
        load_config(
            ws / "driftloop.yaml", env={"HOOK_TOKEN": TOKEN}
        ).stores.warehouse.get_secret_value()
    )
    before = store.runs("bikes", 100)
    headers = {"Content-Type": "application/json"}
    if request_case.token:
        headers["Authorization"] = f"Bearer {request_case.token}"
    answer = httpx.request(
        request_case.method,
        url + request_case.path,
        content=request_case.body or None,
        headers=headers,
        timeout=10,
    )
    assert answer.status_code == request_case.status, answer.text
    error = answer.json()["error"]
    assert "\n" not in error and "Traceback" not in answer.text
    assert all(part in error for part in request_case.expect), (
        f"{error!r} lacks {request_case.expect}"
    )
    assert TOKEN not in answer.text
    if request_case.id == "hook-unknown-pipeline":
        assert "bikes" not in answer.text
    assert store.runs("bikes", 100) == before  # no run started or recorded


# ---- the Python API: the same rules for library users -----------------------------------------


def _frame(**columns: Any) -> Any:
    import pandas as pd

    return pd.DataFrame(columns)


PYTHON = [
    ("detect-not-a-frame", lambda d: d([1, 2], [1, 2]), ("DataFrame",)),
    (
        "detect-unknown-column",
        lambda d: d(_frame(a=[1.0, 2.0]), _frame(a=[1.0, 2.0]), columns=["b"]),
        ("b",),
    ),
    (
        "detect-bad-method",
        lambda d: d(_frame(a=[1.0, 2.0]), _frame(a=[1.0, 2.0]), config={"method": "wobble"}),
        ("wobble",),
    ),
    (
        "detect-bad-drift-share",
        lambda d: d(_frame(a=[1.0, 2.0]), _frame(a=[1.0, 2.0]), config={"drift_share": 0}),
        ("drift_share", "0"),
    ),
    (
        "detect-empty-reference",
        lambda d: d(_frame(a=[]), _frame(a=[1.0, 2.0])),
        ("reference", "no rows"),
    ),
]


@pytest.mark.parametrize(("case_id", "call", "expect"), PYTHON, ids=[p[0] for p in PYTHON])
def test_python_api_bad_input_is_one_clear_error(
    case_id: str, call: Any, expect: tuple[str, ...]
) -> None:
    from driftloop import detect
    from driftloop.errors import DriftloopError

    with pytest.raises(DriftloopError) as info:
        call(detect)
    message = str(info.value)
    assert "\n" not in message
    assert all(part in message for part in expect), f"{message!r} lacks {expect}"


def test_a_side_of_a_handful_of_rows_is_compared_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("temp,cnt\n1.0,2\n")
    (tmp_path / "cur.csv").write_text("temp,cnt\n" + "".join(f"{i}.5,{i}\n" for i in range(30)))
    done = CliRunner().invoke(app, ["detect", str(tmp_path / "one.csv"), str(tmp_path / "cur.csv")])
    assert done.exit_code == 0, done.output
    assert done.stderr.strip().splitlines() == [
        f"warning: the reference file '{tmp_path / 'one.csv'}' has only 1 row(s): no test can "
        "tell drift from chance on so few. Pass a longer window."
    ]
