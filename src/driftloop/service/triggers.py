"""The durable trigger queue: every accepted trigger, in the pipeline's own database.

``driftloop_triggers`` holds one row per trigger the server accepted, committed before the
caller gets its ``202``: its id (the run id the caller was given), pipeline, window, where it came
from (``webhook``, ``cron``, ``resume``; ``webhook+cron`` when coalesced), its state, how many times
it was tried, and when it may be tried next::

    queued ──► running ──► done | failed | empty
      ▲           │
      └───────────┘  the pipeline's lock held elsewhere (retried with backoff), the server
                     stopped mid-run (resumed at the next start), or its server died
                     (``running`` under a dead owner, taken back at start-up)

A trigger's id is its run's id: whoever takes a trigger whose run exists resumes that run, and a
trigger whose run already ended takes the run's outcome, so a trigger runs at most once.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from driftloop.data.store import TableStore

__all__ = ["OWNER", "Trigger", "TriggerStore", "final_state"]

OWNER = f"{socket.gethostname()}:{os.getpid()}"
LEASE = dt.timedelta(minutes=30)  # a trigger running on another host is taken back after this

_META = sa.MetaData()
TRIGGERS = sa.Table(
    "driftloop_triggers",
    _META,
    sa.Column("trigger_id", sa.String(40), primary_key=True),
    sa.Column("pipeline", sa.Text, nullable=False, index=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("window_start", sa.Date),
    sa.Column("window_end", sa.Date),
    sa.Column("state", sa.String(12), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("triggers", sa.Integer, nullable=False, default=1),
    sa.Column("next_try", sa.DateTime, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("owner", sa.Text),
    sa.Column("error", sa.Text),
)
_FINAL = {"succeeded": "done", "failed": "failed", "empty": "empty", "superseded": "done"}


def final_state(run_status: str) -> str | None:
    """The trigger state a finished run's status gives, or None while the run can go on.

    Examples
    --------
    >>> final_state("succeeded"), final_state("interrupted")
    ('done', None)
    """
    return _FINAL.get(run_status)


def _now() -> dt.datetime:
    """UTC, naive, to the microsecond (triggers of one second keep their order)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Trigger:
    """One accepted trigger, as the queue holds it."""

    trigger_id: str
    pipeline: str
    source: str
    start: dt.date | None
    end: dt.date | None
    state: str
    attempts: int
    triggers: int
    next_try: dt.datetime
    created_at: dt.datetime
    owner: str | None = None
    error: str | None = None

    @property
    def window(self) -> tuple[str, str] | None:
        if self.start is None or self.end is None:
            return None
        return (self.start.isoformat(), self.end.isoformat())

    def to_dict(self) -> dict[str, Any]:
        return {
            "trigger_id": self.trigger_id,
            "pipeline": self.pipeline,
            "source": self.source,
            "window": list(self.window) if self.window else None,
            "state": self.state,
            "attempts": self.attempts,
            "triggers": self.triggers,
            "next_try": self.next_try.isoformat(),
            "accepted_at": self.created_at.isoformat(),
            "error": self.error,
        }

    @classmethod
    def from_row(cls, row: Any) -> Trigger:
        """From a row of the table (or a mapping with its column names)."""
        m = row if isinstance(row, dict) else row._mapping
        return cls(
            m["trigger_id"],
            m["pipeline"],
            m["source"],
            m["window_start"],
            m["window_end"],
            m["state"],
            m["attempts"],
            m["triggers"],
            m["next_try"],
            m["created_at"],
            m.get("owner"),
            m.get("error"),
        )


class TriggerStore(TableStore):
    """Reads and writes the queue; every change is one short transaction."""

    metadata = _META
    doing = "queue triggers"

    def _run(self, statement: Any) -> Any:
        try:
            with self._begin() as conn:
                return conn.execute(statement)
        except sa.exc.SQLAlchemyError as err:
            raise self.failure(err) from None

    def add(
        self,
        trigger_id: str,
        pipeline: str,
        source: str,
        start: dt.date | None,
        end: dt.date | None,
        *,
        running: bool = False,
    ) -> Trigger:
        """Commit a new trigger, ``queued`` (or ``running`` here, when it starts at once)."""
        at = _now()
        values = {
            "trigger_id": trigger_id,
            "pipeline": pipeline,
            "source": source,
            "window_start": start,
            "window_end": end,
            "state": "running" if running else "queued",
            "attempts": 1 if running else 0,
            "triggers": 1,
            "next_try": at,
            "created_at": at,
            "updated_at": at,
            "owner": OWNER if running else None,
        }
        self._run(TRIGGERS.insert().values(**values))
        return Trigger.from_row(values)

    def coalesce(
        self, pipeline: str, source: str, start: dt.date | None, end: dt.date | None
    ) -> Trigger | None:
        """Join the queued trigger of the same window (or the queued windowless one), if any."""
        same = [TRIGGERS.c.pipeline == pipeline, TRIGGERS.c.state == "queued"]
        for column, value in ((TRIGGERS.c.window_start, start), (TRIGGERS.c.window_end, end)):
            same.append(column.is_(None) if value is None else column == value)
        query = sa.select(TRIGGERS).where(*same).order_by(TRIGGERS.c.created_at).limit(1)
        try:
            with self._begin() as conn:
                row = conn.execute(query.with_for_update()).first()
                if row is None:
                    return None
                sources = row.source.split("+")
                joined = row.source if source in sources else row.source + "+" + source
                conn.execute(
                    TRIGGERS.update()
                    .where(TRIGGERS.c.trigger_id == row.trigger_id)
                    .values(triggers=row.triggers + 1, source=joined, updated_at=_now())
                )
                return Trigger.from_row(row)
        except sa.exc.SQLAlchemyError as err:
            raise self.failure(err) from None

    def claim(self, pipeline: str) -> Trigger | None:
        """The oldest due queued trigger of ``pipeline``, now ``running`` under this process."""
        at = _now()
        query = (
            sa.select(TRIGGERS)
            .where(
                TRIGGERS.c.pipeline == pipeline,
                TRIGGERS.c.state == "queued",
                TRIGGERS.c.next_try <= at,
            )
            .order_by(TRIGGERS.c.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        try:
            with self._begin() as conn:
                row = conn.execute(query).first()
                if row is None:
                    return None
                conn.execute(
                    TRIGGERS.update()
                    .where(TRIGGERS.c.trigger_id == row.trigger_id, TRIGGERS.c.state == "queued")
                    .values(state="running", owner=OWNER, attempts=row.attempts + 1, updated_at=at)
                )
                taken = Trigger.from_row(row)
                return replace(taken, state="running", owner=OWNER, attempts=taken.attempts + 1)
        except sa.exc.SQLAlchemyError as err:
            raise self.failure(err) from None

    def finish(self, trigger_id: str, state: str, error: str | None = None) -> None:
        """The trigger ended: ``done``, ``failed`` or ``empty``."""
        self._run(
            TRIGGERS.update()
            .where(TRIGGERS.c.trigger_id == trigger_id)
            .values(state=state, owner=None, error=error, updated_at=_now())
        )

    def requeue(self, trigger_id: str, delay: float, error: str | None = None) -> None:
        """Back to ``queued``, due in ``delay`` seconds (its place in the order kept)."""
        at = _now()
        self._run(
            TRIGGERS.update()
            .where(TRIGGERS.c.trigger_id == trigger_id)
            .values(
                state="queued",
                owner=None,
                error=error,
                next_try=at + dt.timedelta(seconds=delay),
                updated_at=at,
            )
        )

    def take_back(self, pipeline: str, active: set[str]) -> list[str]:
        """``running`` triggers no live server runs, back to ``queued``: those of a process
        that died, and this process's own that no thread runs (a database error between two
        writes). ``active``: the ids this process is running now."""
        query = sa.select(TRIGGERS.c.trigger_id, TRIGGERS.c.owner, TRIGGERS.c.updated_at).where(
            TRIGGERS.c.pipeline == pipeline, TRIGGERS.c.state == "running"
        )
        with self._begin() as conn:
            rows = list(conn.execute(query))
        lost = [r.trigger_id for r in rows if r.trigger_id not in active and _gone(r)]
        if lost:
            self._run(
                TRIGGERS.update()
                .where(TRIGGERS.c.trigger_id.in_(lost), TRIGGERS.c.state == "running")
                .values(state="queued", owner=None, updated_at=_now())
            )
        return lost

    def get(self, trigger_id: str) -> Trigger | None:
        query = sa.select(TRIGGERS).where(TRIGGERS.c.trigger_id == trigger_id)
        with self._begin() as conn:
            row = conn.execute(query).first()
        return Trigger.from_row(row) if row is not None else None

    def queued(self, pipeline: str, limit: int = 50) -> list[Trigger]:
        """The queued triggers of ``pipeline``, in the order they will run."""
        query = (
            sa.select(TRIGGERS)
            .where(TRIGGERS.c.pipeline == pipeline, TRIGGERS.c.state == "queued")
            .order_by(TRIGGERS.c.created_at)
            .limit(limit)
        )
        with self._begin() as conn:
            return [Trigger.from_row(r) for r in conn.execute(query)]

    def oldest_queued(self, pipeline: str) -> str | None:
        """When ``pipeline``'s oldest due queued trigger was accepted (ISO text; None: none)."""
        query = sa.select(sa.func.min(TRIGGERS.c.created_at)).where(
            TRIGGERS.c.pipeline == pipeline,
            TRIGGERS.c.state == "queued",
            TRIGGERS.c.next_try <= _now(),
        )
        with self._begin() as conn:
            found = conn.execute(query).scalar_one()
        if found is None:
            return None
        at = found.replace(tzinfo=None) if hasattr(found, "replace") else found
        return str(at.isoformat(timespec="microseconds")) if hasattr(at, "isoformat") else str(at)

    def count_queued(self, pipeline: str) -> int:
        query = sa.select(sa.func.count()).where(
            TRIGGERS.c.pipeline == pipeline, TRIGGERS.c.state == "queued"
        )
        with self._begin() as conn:
            return int(conn.execute(query).scalar_one())


def _gone(row: Any) -> bool:
    """Whether the server that took this trigger no longer runs it."""
    if row.owner is None or row.owner == OWNER:
        return True
    host, _, pid = str(row.owner).rpartition(":")
    if host != socket.gethostname():
        return bool(_now() - row.updated_at > LEASE)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False
