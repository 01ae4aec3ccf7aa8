"""Run records in the warehouse database: runs, their steps, and the per-pipeline lock.

Tables (created when missing, on SQLite or PostgreSQL):

- ``driftloop_runs``: run id, pipeline, trigger, window, status, verdict, model outcome, report;
- ``driftloop_run_steps``: each step's status, duration, JSON result or error;
- ``driftloop_locks``: one row per running pipeline (owner run, host, pid, heartbeat). A lock whose
  process is gone (same host) or whose heartbeat is older than the lease is stale and taken over.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import uuid
from typing import Any

import sqlalchemy as sa

from driftloop.data.store import TableStore, now
from driftloop.errors import LockedError  # re-exported: its home was this module

__all__ = ["LockedError", "RunStore"]

LEASE = dt.timedelta(minutes=30)

_META = sa.MetaData()
RUNS = sa.Table(
    "driftloop_runs",
    _META,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("pipeline", sa.Text, nullable=False, index=True),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("window_start", sa.Date),
    sa.Column("window_end", sa.Date),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("verdict", sa.Text),
    sa.Column("model_outcome", sa.Text),
    sa.Column("report_path", sa.Text),
    sa.Column("error", sa.Text),
)
STEPS = sa.Table(
    "driftloop_run_steps",
    _META,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("step", sa.String(40), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("started_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("seconds", sa.Float),
    sa.Column("result", sa.Text),
    sa.Column("error", sa.Text),
)
LOCKS = sa.Table(
    "driftloop_locks",
    _META,
    sa.Column("pipeline", sa.Text, primary_key=True),
    sa.Column("run_id", sa.String(40), nullable=False),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("heartbeat", sa.DateTime, nullable=False),
)


_ACTIONS = ("retrain", "publish", "alert")  # the steps that act on a window's verdict


def new_run_id() -> str:
    """``YYYYMMDDTHHMMSS-`` and eight hex digits: the microseconds, then three random digits.

    Run ids sort as they were made, within a second too: the run lists order runs started in
    the same second (``started_at`` is kept to the second) by their ids.
    """
    stamp = dt.datetime.now(dt.UTC)
    return f"{stamp:%Y%m%dT%H%M%S}-{stamp.microsecond:05x}{uuid.uuid4().hex[:3]}"


class RunStore(TableStore):
    """Reads and writes run records; every write is its own short transaction."""

    metadata = _META
    doing = "record runs"

    def _exec(self, statement: Any) -> Any:
        try:
            with self._begin() as conn:
                return conn.execute(statement)
        except sa.exc.SQLAlchemyError as err:
            raise self.failure(err) from None

    # -- runs ----------------------------------------------------------------------------------

    def create_run(
        self,
        pipeline: str,
        trigger: str,
        start: dt.date | None,
        end: dt.date | None,
        steps: list[str],
        run_id: str | None = None,
    ) -> str:
        run_id = run_id or new_run_id()
        with self._begin() as conn:
            conn.execute(
                RUNS.insert().values(
                    run_id=run_id,
                    pipeline=pipeline,
                    trigger=trigger,
                    window_start=start,
                    window_end=end,
                    status="running",
                    started_at=now(),
                )
            )
            conn.execute(
                STEPS.insert(),
                [
                    {"run_id": run_id, "step": s, "position": i, "status": "pending"}
                    for i, s in enumerate(steps)
                ],
            )
        return run_id

    def run(self, run_id: str) -> dict[str, Any] | None:
        with self._begin() as conn:
            row = conn.execute(sa.select(RUNS).where(RUNS.c.run_id == run_id)).mappings().first()
            if row is None:
                return None
            steps = conn.execute(
                sa.select(STEPS).where(STEPS.c.run_id == run_id).order_by(STEPS.c.position)
            ).mappings()
            return _run_dict(dict(row), [dict(s) for s in steps])

    def runs(self, pipeline: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        query = (
            sa.select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.run_id.desc()).limit(limit)
        )
        if pipeline is not None:
            query = query.where(RUNS.c.pipeline == pipeline)
        with self._begin() as conn:
            return [_run_dict(dict(r), None) for r in conn.execute(query).mappings()]

    def decided_run(
        self, pipeline: str, start: dt.date | None, end: dt.date | None, exclude: str
    ) -> str | None:
        """The latest succeeded run of this window (other than ``exclude``) that acted on its
        verdict — retrained, published or alerted — or None (a window not decided yet)."""
        if start is None or end is None:
            return None
        query = (
            sa.select(RUNS.c.run_id)
            .join(STEPS, STEPS.c.run_id == RUNS.c.run_id)
            .where(
                RUNS.c.pipeline == pipeline,
                RUNS.c.window_start == start,
                RUNS.c.window_end == end,
                RUNS.c.status == "succeeded",
                RUNS.c.run_id != exclude,
                STEPS.c.step.in_(_ACTIONS),
                STEPS.c.status == "done",
            )
            .order_by(RUNS.c.started_at.desc(), RUNS.c.run_id.desc())
            .limit(1)
        )
        with self._begin() as conn:
            found = conn.execute(query).scalar()
        return str(found) if found is not None else None

    def window_runs(self, pipeline: str) -> list[dict[str, Any]]:
        """Every run of ``pipeline`` that has a window, oldest first: run id, window, status and
        the names of its steps (what a backfill needs to skip or resume a window)."""
        query = (
            sa.select(RUNS.c.run_id, RUNS.c.window_start, RUNS.c.window_end, RUNS.c.status)
            .where(RUNS.c.pipeline == pipeline, RUNS.c.window_start.is_not(None))
            .order_by(RUNS.c.started_at, RUNS.c.run_id)
        )
        steps = (
            sa.select(STEPS.c.run_id, STEPS.c.step)
            .join(RUNS, RUNS.c.run_id == STEPS.c.run_id)
            .where(RUNS.c.pipeline == pipeline)
            .order_by(STEPS.c.position)
        )
        with self._begin() as conn:
            runs = [dict(r) for r in conn.execute(query).mappings()]
            names: dict[str, list[str]] = {}
            for row in conn.execute(steps):
                names.setdefault(row.run_id, []).append(row.step)
        for run in runs:
            run["steps"] = names.get(run["run_id"], [])
        return runs

    def finish_run(self, run_id: str, status: str, **fields: Any) -> None:
        values = {"status": status, "finished_at": now()}
        for key in ("verdict", "model_outcome"):
            if key in fields and fields[key] is not None:
                values[key] = json.dumps(fields[key], default=str)
        for key in ("report_path", "error"):
            if fields.get(key) is not None:
                values[key] = str(fields[key])
        self._exec(RUNS.update().where(RUNS.c.run_id == run_id).values(**values))

    def interrupt_orphans(self, pipeline: str, keep: str) -> list[str]:
        """Mark ``running`` runs of ``pipeline`` that no live process holds as ``interrupted``.

        Call it while holding the pipeline's lock: any other run still ``running`` then belongs
        to a process that died (SIGKILL, power loss) — except ``driftloop step`` runs, whose steps
        run one process each without the lock: those count as dead once idle for the lease.
        """
        idle_since = now() - LEASE
        with self._begin() as conn:
            orphans = [
                r.run_id
                for r in conn.execute(
                    sa.select(RUNS.c.run_id, RUNS.c.trigger, RUNS.c.started_at).where(
                        RUNS.c.pipeline == pipeline,
                        RUNS.c.status == "running",
                        RUNS.c.run_id != keep,
                    )
                )
                if r.trigger != "step" or r.started_at < idle_since
            ]
            if orphans:
                conn.execute(
                    RUNS.update()
                    .where(RUNS.c.run_id.in_(orphans))
                    .values(status="interrupted", error="its process ended before the run did")
                )
                conn.execute(
                    STEPS.update()
                    .where(STEPS.c.run_id.in_(orphans), STEPS.c.status == "running")
                    .values(status="interrupted")
                )
        return orphans

    def supersede(self, pipeline: str, start: Any, end: Any, keep: str) -> list[str]:
        """Older unfinished runs (interrupted or failed) of the window a newer run has just
        finished become ``superseded``: nothing resumes them and repeats what is done."""
        with self._begin() as conn:
            older = [
                r.run_id
                for r in conn.execute(
                    sa.select(RUNS.c.run_id).where(
                        RUNS.c.pipeline == pipeline,
                        RUNS.c.window_start == start,
                        RUNS.c.window_end == end,
                        RUNS.c.status.in_(("interrupted", "failed")),
                        RUNS.c.run_id != keep,
                    )
                )
            ]
            if older:
                conn.execute(
                    RUNS.update()
                    .where(RUNS.c.run_id.in_(older))
                    .values(status="superseded", error=f"superseded by run {keep}")
                )
        return older

    def reopen_run(self, run_id: str) -> None:
        self._exec(
            RUNS.update()
            .where(RUNS.c.run_id == run_id)
            .values(status="running", error=None, finished_at=None)
        )

    # -- steps ---------------------------------------------------------------------------------

    def start_step(self, run_id: str, step: str) -> None:
        self._exec(
            STEPS.update()
            .where(STEPS.c.run_id == run_id, STEPS.c.step == step)
            .values(status="running", started_at=now(), error=None)
        )

    def finish_step(
        self,
        run_id: str,
        step: str,
        status: str,
        seconds: float,
        result: Any = None,
        error: str | None = None,
    ) -> None:
        self._exec(
            STEPS.update()
            .where(STEPS.c.run_id == run_id, STEPS.c.step == step)
            .values(
                status=status,
                finished_at=now(),
                seconds=round(seconds, 4),
                result=json.dumps(result, default=str) if result is not None else None,
                error=error,
            )
        )

    # -- lock ----------------------------------------------------------------------------------

    def acquire(self, pipeline: str, run_id: str) -> None:
        """Take the pipeline's lock, or raise LockedError naming the run that holds it."""
        me = {
            "pipeline": pipeline,
            "run_id": run_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }
        try:
            with self._begin() as conn:
                held = (
                    conn.execute(
                        sa.select(LOCKS).where(LOCKS.c.pipeline == pipeline).with_for_update()
                    )
                    .mappings()
                    .first()
                )
                if held is not None and not _stale(dict(held)) and held["run_id"] != run_id:
                    raise LockedError(
                        f"Pipeline '{pipeline}' is already running (run {held['run_id']}, pid "
                        f"{held['pid']} on {held['host']}). Wait for it, or resume that run."
                    )
                if held is not None:
                    conn.execute(LOCKS.delete().where(LOCKS.c.pipeline == pipeline))
                conn.execute(LOCKS.insert().values(**me, heartbeat=now()))
        except sa.exc.IntegrityError:
            raise LockedError(
                f"Pipeline '{pipeline}' is already running (it just started). Wait for it."
            ) from None

    def heartbeat(self, pipeline: str, run_id: str) -> None:
        self._exec(
            LOCKS.update()
            .where(LOCKS.c.pipeline == pipeline, LOCKS.c.run_id == run_id)
            .values(heartbeat=now())
        )

    def release(self, pipeline: str, run_id: str) -> None:
        self._exec(LOCKS.delete().where(LOCKS.c.pipeline == pipeline, LOCKS.c.run_id == run_id))

    def holder(self, pipeline: str) -> dict[str, Any] | None:
        with self._begin() as conn:
            row = (
                conn.execute(sa.select(LOCKS).where(LOCKS.c.pipeline == pipeline))
                .mappings()
                .first()
            )
            return dict(row) if row is not None and not _stale(dict(row)) else None


def _stale(lock: dict[str, Any]) -> bool:
    if now() - lock["heartbeat"] > LEASE:
        return True
    if lock["host"] == socket.gethostname():
        try:
            os.kill(int(lock["pid"]), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


def _run_dict(row: dict[str, Any], steps: list[dict[str, Any]] | None) -> dict[str, Any]:
    for key in ("verdict", "model_outcome"):
        if row.get(key):
            row[key] = json.loads(row[key])
    for key in ("window_start", "window_end", "started_at", "finished_at"):
        if row.get(key) is not None:
            row[key] = row[key].isoformat()
    if steps is not None:
        for s in steps:
            s["result"] = json.loads(s["result"]) if s.get("result") else None
            for key in ("started_at", "finished_at"):
                if s.get(key) is not None:
                    s[key] = s[key].isoformat()
            s.pop("run_id", None)
        row["steps"] = steps
    return row
