"""The alert outbox: alerts are stored first, then delivered; none lost, none sent twice.

Every alert is written to ``driftloop_outbox`` (one row per run and channel, so re-running a run
cannot queue it twice) before any delivery is tried. Delivery drains every pending row of the
pipeline — including those a failed delivery left behind on earlier runs — and marks each one
sent as soon as its channel confirms. An alert whose fingerprint (pipeline, drifted features,
degradation kinds) matches one sent within the cooldown is recorded as ``suppressed``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from driftloop.actions.notify import Alert, Sender
from driftloop.data.store import now

__all__ = ["OUTBOX", "STALE", "DrainResult", "Outbox"]

# A row still 'sending' after this long was left by a process that ended mid-delivery (a send
# takes at most retries x timeout, about a minute with the defaults).
STALE = dt.timedelta(minutes=5)

_META = sa.MetaData()
OUTBOX = sa.Table(
    "driftloop_outbox",
    _META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pipeline", sa.Text, nullable=False, index=True),
    sa.Column("run_id", sa.String(40), nullable=False),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("alert", sa.Text, nullable=False),
    # pending, sending, sent, suppressed, unknown (sent, no answer: never re-sent)
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime),
    sa.UniqueConstraint("run_id", "channel", name="driftloop_outbox_once"),
)


@dataclass(frozen=True, slots=True)
class DrainResult:
    sent: int
    failed: int
    pending: int

    def to_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "pending": self.pending}


class Outbox:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        _META.create_all(engine, checkfirst=True)

    def enqueue(
        self,
        pipeline: str,
        run_id: str,
        alert: Alert,
        channels: Sequence[str],
        cooldown: dt.timedelta,
    ) -> dict[str, str]:
        """Store the alert once per channel; returns each channel's status (pending/suppressed)."""
        statuses = {}
        with self.engine.begin() as conn:
            for channel in channels:
                existing = conn.execute(
                    sa.select(OUTBOX.c.status).where(
                        OUTBOX.c.run_id == run_id, OUTBOX.c.channel == channel
                    )
                ).scalar_one_or_none()
                if existing is not None:
                    statuses[channel] = existing
                    continue
                recent = conn.execute(
                    sa.select(sa.func.count()).where(
                        OUTBOX.c.pipeline == pipeline,
                        OUTBOX.c.channel == channel,
                        OUTBOX.c.fingerprint == alert.fingerprint,
                        OUTBOX.c.status.in_(("sent", "pending")),
                        OUTBOX.c.created_at >= now() - cooldown,
                    )
                ).scalar_one()
                status = "suppressed" if recent and cooldown > dt.timedelta(0) else "pending"
                conn.execute(
                    OUTBOX.insert().values(
                        pipeline=pipeline,
                        run_id=run_id,
                        channel=channel,
                        fingerprint=alert.fingerprint,
                        alert=json.dumps(alert.to_dict()),
                        status=status,
                        attempts=0,
                        created_at=now(),
                    )
                )
                statuses[channel] = status
        return statuses

    def drain(self, pipeline: str, senders: Sequence[Sender]) -> DrainResult:
        """Try every pending alert of ``pipeline``, oldest first; mark each delivered one sent.

        Rows a dead process left ``sending`` become ``unknown`` first; an alert whose delivery
        is unknown is never re-sent, and the next alert delivered on its channel says so.
        """
        self.release_stale(pipeline)
        by_channel = {s.channel: s for s in senders}
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.alert)
                .where(OUTBOX.c.pipeline == pipeline, OUTBOX.c.status == "pending")
                .order_by(OUTBOX.c.id)
            ).all()
        sent = failed = 0
        for row_id, channel, payload in rows:
            sender = by_channel.get(channel)
            if sender is None or not self._claim(row_id):
                continue  # another drainer (a run, the timer) is sending this one
            alert, unconfirmed = self._with_unconfirmed(pipeline, channel, row_id, payload)
            delivery = sender.send(alert)
            values: dict[str, Any] = {"attempts": OUTBOX.c.attempts + 1}
            if delivery.ok:
                values |= {"status": "sent", "sent_at": now(), "last_error": None}
                self._mark_reported(unconfirmed)
                sent += 1
            elif delivery.unknown:
                values |= {"status": "unknown", "last_error": delivery.detail}
                failed += 1
            else:
                values |= {"status": "pending", "sent_at": None, "last_error": delivery.detail}
                failed += 1
            with self.engine.begin() as conn:
                conn.execute(
                    OUTBOX.update()
                    .where(OUTBOX.c.id == row_id, OUTBOX.c.status == "sending")
                    .values(**values)
                )
        return DrainResult(sent, failed, self.pending_count(pipeline))

    def _claim(self, row_id: int) -> bool:
        """Mark a pending row 'sending'; true only for the one drainer that got it."""
        with self.engine.begin() as conn:
            claimed = conn.execute(
                OUTBOX.update()
                .where(OUTBOX.c.id == row_id, OUTBOX.c.status == "pending")
                .values(status="sending", sent_at=now())
            ).rowcount
        return bool(claimed)

    def release_stale(self, pipeline: str | None = None, older_than: dt.timedelta = STALE) -> int:
        """Rows left 'sending' by a process that died mid-delivery become 'unknown': the
        receiver may have the alert (no idempotency key to ask Slack), so it is not re-sent."""
        query = OUTBOX.update().where(
            OUTBOX.c.status == "sending", OUTBOX.c.sent_at < now() - older_than
        )
        if pipeline is not None:
            query = query.where(OUTBOX.c.pipeline == pipeline)
        detail = "the process sending it ended before the answer: delivery unknown"
        with self.engine.begin() as conn:
            return int(conn.execute(query.values(status="unknown", last_error=detail)).rowcount)

    def _with_unconfirmed(
        self, pipeline: str, channel: str, row_id: int, payload: str
    ) -> tuple[Alert, list[int]]:
        """The alert, with notes naming what its channel has not been told yet: earlier alerts
        whose delivery is unknown, and alerts the cooldown suppressed since the last one sent."""
        alert = Alert.from_dict(json.loads(payload))
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(OUTBOX.c.id, OUTBOX.c.run_id, OUTBOX.c.status, OUTBOX.c.created_at)
                .where(
                    OUTBOX.c.pipeline == pipeline,
                    OUTBOX.c.channel == channel,
                    OUTBOX.c.status.in_(("unknown", "suppressed")),
                    OUTBOX.c.id != row_id,
                    sa.or_(OUTBOX.c.last_error.is_(None), ~OUTBOX.c.last_error.like("reported%")),
                )
                .order_by(OUTBOX.c.id)
            ).all()
        unknown = [r for r in rows if r.status == "unknown"]
        suppressed = [r for r in rows if r.status == "suppressed"]
        if unknown:
            runs = ", ".join(r.run_id for r in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            alert = alert.with_note(
                f"Note: {len(unknown)} earlier alert(s) may not have arrived — no answer came "
                f"(runs {runs}). Check this channel; driftloop does not re-send them."
            )
        if suppressed:
            since = min(r.created_at for r in suppressed).strftime("%Y-%m-%d %H:%M UTC")
            alert = alert.with_note(
                f"{len(suppressed)} similar alert(s) suppressed by the cooldown since {since}."
            )
        return alert, [r.id for r in rows]

    def _mark_reported(self, row_ids: list[int]) -> None:
        if not row_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                OUTBOX.update()
                .where(OUTBOX.c.id.in_(row_ids))
                .values(last_error="reported in a later alert")
            )

    def pending_count(self, pipeline: str) -> int:
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        OUTBOX.c.pipeline == pipeline, OUTBOX.c.status == "pending"
                    )
                ).scalar_one()
            )

    def rows(self, pipeline: str) -> list[dict[str, Any]]:
        with self.engine.begin() as conn:
            return [
                dict(r)
                for r in conn.execute(
                    sa.select(OUTBOX).where(OUTBOX.c.pipeline == pipeline).order_by(OUTBOX.c.id)
                ).mappings()
            ]
