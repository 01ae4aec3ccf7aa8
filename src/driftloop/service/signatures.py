"""Signed webhook requests: the signature, and the signatures already accepted.

A request is signed with HMAC-SHA256 over ``"<timestamp>." + body`` (``X-Driftloop-Timestamp``,
``X-Driftloop-Signature: sha256=<hex>``). Each signature is accepted once: the accepted ones are
kept in the pipeline's own database (``driftloop_webhook_signatures``) until their tolerance has
passed, so a request replayed after the server restarted is refused as well.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time

import sqlalchemy as sa

from driftloop.data.store import TableStore

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "ReplayGuard", "sign", "signed_headers"]

SIGNATURE_HEADER = "x-driftloop-signature"
TIMESTAMP_HEADER = "x-driftloop-timestamp"

_META = sa.MetaData()
SIGNATURES = sa.Table(
    "driftloop_webhook_signatures",
    _META,
    sa.Column("signature", sa.String(80), primary_key=True),
    sa.Column("pipeline", sa.Text, nullable=False),
    sa.Column("expires", sa.DateTime, nullable=False, index=True),
)


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """The signature header value: ``sha256=<hex HMAC-SHA256 of "<timestamp>." + body>``.

    The timestamp (Unix seconds, as sent in ``X-Driftloop-Timestamp``) is inside the signed
    string, so a captured request cannot be replayed later with a fresh timestamp.

    Examples
    --------
    >>> sign("key", b"{}", "1700000000")[:15]
    'sha256=9d713ed4'
    """
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The two headers a client sends with ``body`` (a fresh timestamp each call)."""
    timestamp = repr(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, body, timestamp)}


class ReplayGuard(TableStore):
    """The signatures a pipeline accepted within the tolerance: each is accepted once, across
    restarts of the server."""

    metadata = _META
    doing = "check webhook signatures"

    def __init__(self, url: str, pipeline: str, tolerance: float) -> None:
        super().__init__(url)
        self.pipeline = pipeline
        self.tolerance = tolerance

    def first_use(self, signature: str, now: float) -> bool:
        """Whether ``signature`` is new (and now remembered); False for a replay."""
        expires = dt.datetime.fromtimestamp(now + 2 * self.tolerance, dt.UTC).replace(tzinfo=None)
        cutoff = dt.datetime.fromtimestamp(now, dt.UTC).replace(tzinfo=None)
        try:
            with self._begin() as conn:
                conn.execute(SIGNATURES.delete().where(SIGNATURES.c.expires < cutoff))
            with self._begin() as conn:
                conn.execute(
                    SIGNATURES.insert().values(
                        signature=signature, pipeline=self.pipeline, expires=expires
                    )
                )
        except sa.exc.IntegrityError:
            return False
        except sa.exc.SQLAlchemyError as err:
            raise self.failure(err) from None
        return True
