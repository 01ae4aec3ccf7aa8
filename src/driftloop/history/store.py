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
from driftloop.history.tables import FEATURES, METADATA, SCHEMA, SCHEMA_VERSION, WINDOWS

__all__ = ["HistoryStore", "record_report"]

_COMPONENT = "history"
# Upgrades of the tables, keyed by the version they start from (none yet: version 1 is the first).
_MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {}
_FEATURE_FIELDS = ("method", "statistic", "p_value", "threshold", "drifted")


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
            METADATA.create_all(conn, checkfirst=True)
            if row is None:
                conn.execute(
                    SCHEMA.insert().values(
                        component=_COMPONENT, version=SCHEMA_VERSION, written_by=__version__
                    )
                )
                return
            for version in range(row.version, SCHEMA_VERSION):
                _MIGRATIONS[version](conn)
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
        features = [_feature_row(c, key, run_id, shares.get(c["name"])) for c in report["columns"]]
        try:
            with self._begin() as conn:
                conn.execute(FEATURES.delete().where(FEATURES.c.run_id == run_id))
                conn.execute(WINDOWS.delete().where(WINDOWS.c.run_id == run_id))
                conn.execute(WINDOWS.insert().values(**window_row))
                if features:
                    conn.execute(FEATURES.insert(), features)
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

    def history(
        self, pipeline: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> dict[str, Any]:
        """The JSON API's answer: one entry per window (its latest run), ordered by start.

        ``{"pipeline", "windows": [{"start", "end", "run_id", "dataset_drift",
        "share_drifted", "features": {name: {method, statistic, p_value, threshold,
        drifted}}}]}``
        """
        per_run: dict[str, dict[str, Any]] = {}
        for row in self.features(pipeline, start, end):
            per_run.setdefault(row["run_id"], {})[row["feature"]] = {
                k: row[k] for k in _FEATURE_FIELDS
            }
        windows = [
            {
                "start": w["window_start"].isoformat(),
                "end": w["window_end"].isoformat(),
                "run_id": w["run_id"],
                "dataset_drift": w["dataset_drift"],
                "share_drifted": w["share_drifted"],
                "features": per_run.get(w["run_id"], {}),
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
    for table in (WINDOWS, FEATURES):
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
    rows = current.height
    shares = {c: (current[c].null_count() / rows if rows else 0.0) for c in current.columns}
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
