"""Predictions and outcomes in the warehouse, for concept-drift monitoring.

Serving code records each prediction (id, timestamp, model version, prediction, optional
features); outcomes arrive later (id, actual). Both are keyed by (pipeline, id): re-recording an
id replaces it, so retries never duplicate. :class:`PredictionLogger` batches writes for serving
code; :meth:`PredictionStore.pairs` joins them for a window.

    with PredictionLogger("postgresql://app@db/ml", pipeline="bikes", model_version="7") as log:
        log.prediction("2012-06-01", 5123.0, timestamp=dt.datetime(2012, 6, 1))
    PredictionStore(url).log_outcomes("bikes", [{"id": "2012-06-01", "actual": 4870}])
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import polars as pl
import sqlalchemy as sa

from driftloop.data.store import TableStore
from driftloop.errors import DataError

__all__ = [
    "CONCEPT_WINDOWS",
    "OUTCOMES",
    "PREDICTIONS",
    "PredictionLogger",
    "PredictionStore",
    "concept_series",
    "record_window",
]

_META = sa.MetaData()
PREDICTIONS = sa.Table(
    "driftloop_predictions",
    _META,
    sa.Column("pipeline", sa.Text, primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("ts", sa.DateTime, nullable=False, index=True),
    sa.Column("model_version", sa.Text),
    sa.Column("prediction", sa.Float, nullable=False),
    sa.Column("features", sa.Text),
)
OUTCOMES = sa.Table(
    "driftloop_outcomes",
    _META,
    sa.Column("pipeline", sa.Text, primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("actual", sa.Float, nullable=False),
    sa.Column("observed_at", sa.DateTime),
)
CONCEPT_WINDOWS = sa.Table(
    "driftloop_concept_windows",
    _META,
    sa.Column("pipeline", sa.Text, primary_key=True),
    sa.Column("window_start", sa.Date, primary_key=True),
    sa.Column("window_end", sa.Date, primary_key=True),
    sa.Column("run_id", sa.String(40)),
    sa.Column("concept_drift", sa.Boolean, nullable=False),
    sa.Column("report", sa.Text, nullable=False),
)
_CHUNK = 1000


def _number(value: Any, field: str, row: str) -> float:
    """A finite number, or a DataError naming the row, the field and the value."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not math.isfinite(number):
        raise DataError(
            f"{row}: '{field}' must be a finite number. Got {value!r}. Fix the value or drop "
            "the row."
        )
    return number


def _timestamp(value: Any, row: str) -> dt.datetime:
    """A naive UTC datetime from a datetime, a date or an ISO 8601 string (now when missing)."""
    if value is None or value == "":
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise DataError(
                f"{row}: 'ts' must be a date or date-time like 2012-06-01 or "
                f"2012-06-01T11:00:00. Got {value!r}."
            ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


class PredictionStore(TableStore):
    """Predictions and outcomes of one warehouse database."""

    metadata = _META
    doing = "record predictions and outcomes"

    def _upsert(self, table: sa.Table, pipeline: str, rows: list[dict[str, Any]]) -> int:
        ids = [r["id"] for r in rows]
        if len(set(ids)) != len(ids):
            raise DataError(
                f"Duplicate ids in one batch for {table.name} (e.g. {_first_dup(ids)!r})."
            )
        with self._begin() as conn:  # one transaction: the batch lands whole or not at all
            for i in range(0, len(rows), _CHUNK):
                chunk = rows[i : i + _CHUNK]
                keys = [r["id"] for r in chunk]
                conn.execute(
                    table.delete().where(table.c.pipeline == pipeline, table.c.id.in_(keys))
                )
                conn.execute(table.insert(), [{"pipeline": pipeline, **r} for r in chunk])
        return len(rows)

    def log_predictions(
        self, pipeline: str, rows: Iterable[Mapping[str, Any]] | pl.DataFrame
    ) -> int:
        """Record predictions: ``id``, ``prediction``; optional ts, model_version, features."""
        records = rows.to_dicts() if isinstance(rows, pl.DataFrame) else [dict(r) for r in rows]
        clean = []
        for i, r in enumerate(records):
            if r.get("id") is None or r.get("prediction") is None:
                raise DataError(
                    f"Prediction row {i} needs an 'id' and a 'prediction'. Got {sorted(r)}."
                )
            ts = _timestamp(r.get("ts"), f"Prediction row {i} (id {r['id']!r})")
            features = r.get("features")
            clean.append(
                {
                    "id": str(r["id"]),
                    "ts": ts,
                    "model_version": None
                    if r.get("model_version") is None
                    else str(r["model_version"]),
                    "prediction": _number(
                        r["prediction"], "prediction", f"Prediction row {i} (id {r['id']!r})"
                    ),
                    "features": json.dumps(features, default=str) if features is not None else None,
                }
            )
        return self._upsert(PREDICTIONS, pipeline, clean)

    def log_outcomes(self, pipeline: str, rows: Iterable[Mapping[str, Any]] | pl.DataFrame) -> int:
        """Record outcomes: ``id`` and ``actual`` (and optionally ``observed_at``)."""
        records = rows.to_dicts() if isinstance(rows, pl.DataFrame) else [dict(r) for r in rows]
        clean = []
        for i, r in enumerate(records):
            if r.get("id") is None or r.get("actual") is None:
                raise DataError(f"Outcome row {i} needs an 'id' and an 'actual'. Got {sorted(r)}.")
            clean.append(
                {
                    "id": str(r["id"]),
                    "actual": _number(r["actual"], "actual", f"Outcome row {i} (id {r['id']!r})"),
                    "observed_at": r.get("observed_at"),
                }
            )
        return self._upsert(OUTCOMES, pipeline, clean)

    def pairs(
        self,
        pipeline: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        model_version: str | None = None,
    ) -> pl.DataFrame:
        """Predictions with their outcomes, in time order, within ``[start, end]`` (inclusive)."""
        p, o = PREDICTIONS, OUTCOMES
        query = (
            sa.select(p.c.id, p.c.ts, p.c.model_version, p.c.prediction, o.c.actual)
            .join(o, sa.and_(o.c.pipeline == p.c.pipeline, o.c.id == p.c.id))
            .where(p.c.pipeline == pipeline)
            .order_by(p.c.ts, p.c.id)
        )
        if start is not None:
            query = query.where(p.c.ts >= dt.datetime.combine(start, dt.time()))
        if end is not None:
            query = query.where(p.c.ts < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
        if model_version is not None:
            query = query.where(p.c.model_version == model_version)
        with self._begin() as conn:
            rows = conn.execute(query).all()
        schema = {
            "id": pl.String,
            "ts": pl.Datetime,
            "model_version": pl.String,
            "prediction": pl.Float64,
            "actual": pl.Float64,
        }
        return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def record_window(
    store: PredictionStore,
    pipeline: str,
    start: dt.date,
    end: dt.date,
    run_id: str,
    report: dict[str, Any],
) -> None:
    """Keep one concept result per window (a re-run replaces it): the per-window series."""
    table = CONCEPT_WINDOWS
    with store._begin() as conn:
        key = (
            table.c.pipeline == pipeline,
            table.c.window_start == start,
            table.c.window_end == end,
        )
        conn.execute(table.delete().where(*key))
        conn.execute(
            table.insert().values(
                pipeline=pipeline,
                window_start=start,
                window_end=end,
                run_id=run_id,
                concept_drift=bool(report["concept_drift"]),
                report=json.dumps(report),
            )
        )


def concept_series(store: PredictionStore, pipeline: str) -> list[dict[str, Any]]:
    table = CONCEPT_WINDOWS
    with store._begin() as conn:
        rows = conn.execute(
            sa.select(table).where(table.c.pipeline == pipeline).order_by(table.c.window_start)
        ).mappings()
        return [
            {
                "window_start": str(r["window_start"]),
                "window_end": str(r["window_end"]),
                **json.loads(r["report"]),
            }
            for r in rows
        ]


class PredictionLogger:
    """Batches predictions from serving code; flushes every ``batch_size`` rows and on close."""

    def __init__(
        self, url: str, *, pipeline: str, model_version: str | None = None, batch_size: int = 500
    ) -> None:
        self.store = PredictionStore(url)
        self.pipeline, self.model_version, self.batch_size = pipeline, model_version, batch_size
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def prediction(
        self,
        id: str,
        prediction: float,
        *,
        timestamp: dt.datetime | None = None,
        features: Mapping[str, Any] | None = None,
    ) -> None:
        row = {
            "id": id,
            "prediction": prediction,
            "ts": timestamp,
            "model_version": self.model_version,
        }
        if features is not None:
            row["features"] = dict(features)
        with self._lock:
            self._rows.append(row)
            full = len(self._rows) >= self.batch_size
        if full:
            self.flush()

    def flush(self) -> int:
        with self._lock:
            rows, self._rows = self._rows, []
        return self.store.log_predictions(self.pipeline, rows) if rows else 0

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.flush()


def _first_dup(ids: list[str]) -> str:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            return i
        seen.add(i)
    return ""
