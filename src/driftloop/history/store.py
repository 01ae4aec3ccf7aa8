"""Writes and reads the drift history (see ``tables``), on SQLite or PostgreSQL.

A window may be judged by several runs (a re-run, a backfill, an import): every run keeps its
rows, and the latest run of a window (by its start time, then its id) is the window's current
one; the others are marked ``superseded``. Writing a run again replaces its own rows, so the
detect step of a resumed run and a repeated import are idempotent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from driftloop.data.sql import redact_url
from driftloop.data.store import _DDL_LOCK, TableStore
from driftloop.errors import SourceError
from driftloop.history.tables import (
    FEATURES,
    METADATA,
    MULTIVARIATE,
    PERFORMANCE,
    SCHEMA,
    SCHEMA_VERSION,
    SEGMENTS,
    WINDOWS,
)

__all__ = ["HistoryStore", "record_report"]

_COMPONENT = "history"
_FEATURE_FIELDS = ("method", "statistic", "p_value", "threshold", "drifted")
_SEGMENT_FIELDS = ("name", "method", "statistic", "p_value", "p_adjusted", "threshold", "drifted")
_PERFORMANCE_FIELDS = (
    "metric", "model_version", "estimated", "lower", "upper", "reference_value", "dropped",
    "realized", "realized_lower", "realized_upper", "realized_dropped", "skipped",
)  # fmt: skip
_RUN_TABLES = (WINDOWS, FEATURES, MULTIVARIATE, SEGMENTS, PERFORMANCE)


def _add_joint_tables(conn: sa.Connection) -> None:
    """1 -> 2: the multivariate and segment tables (earlier runs have no rows there)."""
    MULTIVARIATE.create(conn, checkfirst=True)
    SEGMENTS.create(conn, checkfirst=True)


def _add_performance_table(conn: sa.Connection) -> None:
    """2 -> 3: the performance table (earlier runs have no rows there)."""
    PERFORMANCE.create(conn, checkfirst=True)


# Upgrades of the tables, keyed by the version they start from.
_MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {
    1: _add_joint_tables,
    2: _add_performance_table,
}


class HistoryStore(TableStore):
    """The history tables of one warehouse database."""

    metadata = METADATA
    doing = "record drift history"

    def _create_tables(self) -> None:
        """Create or upgrade the tables under the DDL lock; refuse tables from a newer schema."""
        from importlib.metadata import version as package_version

        __version__ = package_version("driftloop")
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK})
            SCHEMA.create(conn, checkfirst=True)
            row = conn.execute(sa.select(SCHEMA).where(SCHEMA.c.component == _COMPONENT)).first()
            if row is not None and row.version > SCHEMA_VERSION:
                raise SourceError(
                    f"The history tables in {redact_url(self.url)} have schema version "
                    f"{row.version}, written by driftloop {row.written_by}; this driftloop "
                    f"({__version__}) reads version {SCHEMA_VERSION}. Upgrade driftloop to "
                    f"{row.written_by} or later."
                )
            if row is None:
                METADATA.create_all(conn, checkfirst=True)
                conn.execute(
                    SCHEMA.insert().values(
                        component=_COMPONENT, version=SCHEMA_VERSION, written_by=__version__
                    )
                )
                return
            for version in range(row.version, SCHEMA_VERSION):
                _MIGRATIONS[version](conn)
            METADATA.create_all(conn, checkfirst=True)
            if row.version < SCHEMA_VERSION:
                conn.execute(
                    SCHEMA.update()
                    .where(SCHEMA.c.component == _COMPONENT)
                    .values(version=SCHEMA_VERSION, written_by=__version__)
                )

    def _read(self, statement: Any) -> list[dict[str, Any]]:
        try:
            with self._begin() as conn:
                return [dict(r) for r in conn.execute(statement).mappings()]
        except sa.exc.SQLAlchemyError as err:
            raise self.failure(err) from None

    # -- writing -------------------------------------------------------------------------------

    def record(
        self,
        pipeline: str,
        run_id: str,
        window: tuple[dt.date, dt.date],
        report: Mapping[str, Any],
        *,
        null_shares: Mapping[str, float] | None = None,
        run_at: dt.datetime | None = None,
        source: str = "run",
        report_json: str | None = None,
    ) -> None:
        """Store one run's verdict on a window (``report`` is ``DriftReport.to_dict()``), in
        one transaction; the latest run of the window becomes its current one."""
        when = run_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        key = {"pipeline": pipeline, "window_start": window[0], "window_end": window[1]}
        window_row = _window_row(report, key, run_id, when, source, report_json)
        shares = null_shares or {}
        rows = {
            FEATURES: [
                _feature_row(c, key, run_id, shares.get(c["name"])) for c in report["columns"]
            ],
            MULTIVARIATE: [
                _multivariate_row(m, key, run_id) for m in report.get("multivariate", [])
            ],
            SEGMENTS: [_segment_row(s, key, run_id) for s in report.get("segments", [])],
            PERFORMANCE: _performance_rows(report.get("performance"), key, run_id),
        }
        try:
            with self._begin() as conn:
                for table in reversed(_RUN_TABLES):
                    conn.execute(table.delete().where(table.c.run_id == run_id))
                conn.execute(WINDOWS.insert().values(**window_row))
                for table, values in rows.items():
                    if values:
                        conn.execute(table.insert(), values)
                _settle(conn, pipeline, window)
        except sa.exc.SQLAlchemyError as err:
            raise self.failure(err) from None

    # -- reading -------------------------------------------------------------------------------

    def run_ids(self, pipeline: str) -> set[str]:
        """Every run with history rows for ``pipeline`` (superseded ones included)."""
        query = sa.select(WINDOWS.c.run_id).where(WINDOWS.c.pipeline == pipeline)
        return {r["run_id"] for r in self._read(query)}

    def windows(
        self,
        pipeline: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        superseded: bool = False,
    ) -> list[dict[str, Any]]:
        """The windows of ``pipeline`` that start in ``[start, end]``, oldest first (with
        ``superseded``, every run of each window, latest last)."""
        query = _in_range(sa.select(WINDOWS), WINDOWS, pipeline, start, end, superseded)
        rows = self._read(query.order_by(WINDOWS.c.window_start, WINDOWS.c.run_at))
        for row in rows:
            row["degradation"] = json.loads(row["degradation"])
        return rows

    def features(
        self,
        pipeline: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        feature: str | None = None,
    ) -> list[dict[str, Any]]:
        """The current runs' per-feature rows, by window start then feature."""
        query = _in_range(sa.select(FEATURES), FEATURES, pipeline, start, end, False)
        if feature is not None:
            query = query.where(FEATURES.c.feature == feature)
        return self._read(query.order_by(FEATURES.c.window_start, FEATURES.c.feature))

    def multivariate(
        self, pipeline: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[dict[str, Any]]:
        """The current runs' multivariate rows (``top_features`` a list), by window start then
        method."""
        query = _in_range(sa.select(MULTIVARIATE), MULTIVARIATE, pipeline, start, end, False)
        rows = self._read(query.order_by(MULTIVARIATE.c.window_start, MULTIVARIATE.c.method))
        return [{**r, "top_features": json.loads(r["top_features"])} for r in rows]

    def segments(
        self, pipeline: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[dict[str, Any]]:
        """The current runs' segment rows (``drifted`` and ``columns`` decoded), by window start,
        segment column and value."""
        query = _in_range(sa.select(SEGMENTS), SEGMENTS, pipeline, start, end, False)
        order = (SEGMENTS.c.window_start, SEGMENTS.c.segment, SEGMENTS.c.value)
        return [_decoded_segment(r) for r in self._read(query.order_by(*order))]

    def performance(
        self, pipeline: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[dict[str, Any]]:
        """The current runs' performance rows (estimated beside realized), by window start."""
        query = _in_range(sa.select(PERFORMANCE), PERFORMANCE, pipeline, start, end, False)
        return self._read(query.order_by(PERFORMANCE.c.window_start))

    def run_findings(self, run_id: str) -> dict[str, list[dict[str, Any]]]:
        """One run's multivariate and segment rows (superseded or not), for its run page."""
        multi = self._read(
            sa.select(MULTIVARIATE)
            .where(MULTIVARIATE.c.run_id == run_id)
            .order_by(MULTIVARIATE.c.method)
        )
        segs = self._read(
            sa.select(SEGMENTS)
            .where(SEGMENTS.c.run_id == run_id)
            .order_by(SEGMENTS.c.segment, SEGMENTS.c.value)
        )
        return {
            "multivariate": [{**r, "top_features": json.loads(r["top_features"])} for r in multi],
            "segments": [_decoded_segment(r) for r in segs],
        }

    def history(
        self, pipeline: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> dict[str, Any]:
        """The JSON API's answer: one entry per window (its latest run), ordered by start.

        ``{"pipeline", "windows": [{"start", "end", "run_id", "dataset_drift",
        "share_drifted", "features": {name: {method, statistic, p_value, threshold,
        drifted}}, "multivariate": {method: {statistic, threshold, p_value, drifted,
        top_features, skipped}}, "segments": [{column, value, n_reference, n_current, skipped,
        share_drifted, dataset_drift, drifted}], "performance": {metric, estimated, lower,
        upper, reference_value, dropped, realized, ...} (with a performance section)}]}``
        """
        per_run: dict[str, dict[str, Any]] = {}
        for row in self.features(pipeline, start, end):
            per_run.setdefault(row["run_id"], {})[row["feature"]] = {
                k: row[k] for k in _FEATURE_FIELDS
            }
        multi: dict[str, dict[str, Any]] = {}
        for row in self.multivariate(pipeline, start, end):
            multi.setdefault(row["run_id"], {})[row["method"]] = {
                k: row[k]
                for k in ("statistic", "threshold", "p_value", "drifted", "top_features", "skipped")
            }
        segs: dict[str, list[dict[str, Any]]] = {}
        for row in self.segments(pipeline, start, end):
            segs.setdefault(row["run_id"], []).append(
                {"column": row["segment"], **{k: row[k] for k in _SEGMENT_SUMMARY}}
            )
        performance = {
            row["run_id"]: {k: row[k] for k in _PERFORMANCE_FIELDS}
            for row in self.performance(pipeline, start, end)
        }
        windows = [
            {
                "start": w["window_start"].isoformat(),
                "end": w["window_end"].isoformat(),
                "run_id": w["run_id"],
                "dataset_drift": w["dataset_drift"],
                "share_drifted": w["share_drifted"],
                "features": per_run.get(w["run_id"], {}),
                "multivariate": multi.get(w["run_id"], {}),
                "segments": segs.get(w["run_id"], []),
                **({"performance": performance[w["run_id"]]} if w["run_id"] in performance else {}),
            }
            for w in self.windows(pipeline, start, end)
        ]
        return {"pipeline": pipeline, "windows": windows}


def _in_range(
    query: Any,
    table: sa.Table,
    pipeline: str,
    start: dt.date | None,
    end: dt.date | None,
    superseded: bool,
) -> Any:
    query = query.where(table.c.pipeline == pipeline)
    if not superseded:
        query = query.where(table.c.superseded.is_(False))
    if start is not None:
        query = query.where(table.c.window_start >= start)
    if end is not None:
        query = query.where(table.c.window_start <= end)
    return query


def _settle(conn: sa.Connection, pipeline: str, window: tuple[dt.date, dt.date]) -> None:
    """Mark every run of the window superseded but the latest (by start time, then id)."""
    where = (
        (WINDOWS.c.pipeline == pipeline)
        & (WINDOWS.c.window_start == window[0])
        & (WINDOWS.c.window_end == window[1])
    )
    runs = conn.execute(sa.select(WINDOWS.c.run_id, WINDOWS.c.run_at).where(where)).all()
    latest = max(runs, key=lambda r: (r.run_at, r.run_id)).run_id
    others = [r.run_id for r in runs if r.run_id != latest]
    for table in _RUN_TABLES:
        conn.execute(table.update().where(table.c.run_id == latest).values(superseded=False))
        if others:
            conn.execute(table.update().where(table.c.run_id.in_(others)).values(superseded=True))


def _window_row(
    report: Mapping[str, Any],
    key: dict[str, Any],
    run_id: str,
    run_at: dt.datetime,
    source: str,
    report_json: str | None,
) -> dict[str, Any]:
    columns = report["columns"]
    return {
        **key,
        "run_id": run_id,
        "run_at": run_at,
        "source": source,
        "superseded": False,
        "dataset_drift": bool(report["dataset_drift"]),
        "drift_share": float(report["drift_share"]),
        "share_drifted": float(report["share_drifted"]),
        "n_tested": report.get("n_tested", sum(1 for c in columns if not c.get("skipped"))),
        "n_drifted": report.get("n_drifted", sum(1 for c in columns if c["drifted"])),
        "reference_rows": report.get("reference_rows"),
        "current_rows": report.get("current_rows"),
        "degradation": json.dumps(
            [{k: a.get(k) for k in ("feature", "kind", "message")} for a in report["degradation"]]
        ),
        "report_json": report_json,
    }


def _feature_row(
    column: Mapping[str, Any], key: dict[str, Any], run_id: str, null_share: float | None
) -> dict[str, Any]:
    return {
        **key,
        "run_id": run_id,
        "feature": column["name"],
        "superseded": False,
        "kind": column["kind"],
        "method": column["method"],
        "statistic": column.get("statistic"),
        "p_value": column.get("p_value"),
        "threshold": float(column["threshold"]),
        "drifted": bool(column["drifted"]),
        "n_reference": int(column["n_reference"]),
        "n_current": int(column["n_current"]),
        "null_share": None if null_share is None else round(float(null_share), 6),
        "skipped": column.get("skipped"),
    }


def _multivariate_row(found: Mapping[str, Any], key: dict[str, Any], run_id: str) -> dict[str, Any]:
    return {
        **key,
        "run_id": run_id,
        "method": found["method"],
        "superseded": False,
        "statistic": found.get("statistic"),
        "threshold": found.get("threshold"),
        "p_value": found.get("p_value"),
        "drifted": bool(found["drifted"]),
        "top_features": json.dumps(list(found.get("top_features", []))),
        "n_reference": int(found.get("n_reference", 0)),
        "n_current": int(found.get("n_current", 0)),
        "skipped": found.get("skipped"),
    }


def _segment_row(found: Mapping[str, Any], key: dict[str, Any], run_id: str) -> dict[str, Any]:
    columns = [{k: c.get(k) for k in _SEGMENT_FIELDS} for c in found["columns"]]
    return {
        **key,
        "run_id": run_id,
        "segment": found["column"],
        "value": str(found["value"]),
        "superseded": False,
        "n_reference": int(found["n_reference"]),
        "n_current": int(found["n_current"]),
        "skipped": found.get("skipped"),
        "share_drifted": float(found["share_drifted"]),
        "dataset_drift": bool(found["dataset_drift"]),
        "drifted": json.dumps([c["name"] for c in columns if c["drifted"]]),
        "columns": json.dumps(columns),
    }


_SEGMENT_SUMMARY = (
    "value",
    "n_reference",
    "n_current",
    "skipped",
    "share_drifted",
    "dataset_drift",
    "drifted",
)


def _performance_rows(
    section: Mapping[str, Any] | None, key: dict[str, Any], run_id: str
) -> list[dict[str, Any]]:
    """The run's one performance row (none without a ``performance`` section)."""
    if not section:
        return []
    realized = section.get("realized") or {}
    return [
        {
            **key,
            "run_id": run_id,
            "superseded": False,
            "metric": section["metric"],
            "model_version": section.get("model_version"),
            "estimated": section.get("value"),
            "lower": section.get("lower"),
            "upper": section.get("upper"),
            "reference_value": section.get("reference_value"),
            "dropped": bool(section.get("alert", False)),
            "realized": realized.get("value"),
            "realized_lower": realized.get("lower"),
            "realized_upper": realized.get("upper"),
            "realized_dropped": realized.get("alert"),
            "n_rows": section.get("n_rows"),
            "n_labelled": realized.get("n_rows"),
            "skipped": section.get("skipped"),
        }
    ]


def _decoded_segment(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "drifted": json.loads(row["drifted"]), "columns": json.loads(row["columns"])}


def _null_shares(current: Any) -> dict[str, float]:
    """Each column's share of nulls in the window's rows or its profile."""
    from driftloop.profiles.dataset import Profile

    rows = current.height
    if not rows:
        return dict.fromkeys(current.columns, 0.0)
    if isinstance(current, Profile):
        return {c.name: c.n_null / rows for c in current.profiles}
    return {c: current[c].null_count() / rows for c in current.columns}


def record_report(
    url: str,
    pipeline: str,
    run_id: str,
    window: tuple[dt.date | None, dt.date | None],
    report: Any,
    current: Any,
    report_json: str | None = None,
) -> None:
    """The detect step's one call: store a run's ``DriftReport`` on its window, with each
    column's null share in the ``current`` frame (a run without a window is not history)."""
    start, end = window
    if start is None or end is None:
        return
    shares = _null_shares(current)
    store = HistoryStore(url)
    try:
        store.record(
            pipeline,
            run_id,
            (start, end),
            report.to_dict(),
            null_shares=shares,
            report_json=report_json,
        )
    finally:
        store.engine.dispose()  # one write per run: no pool left behind in a long-lived server
