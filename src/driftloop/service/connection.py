"""The HTTP connection ``driftloop serve`` speaks: uvicorn's h11 protocol with a deadline on
each request's headers.

uvicorn's ``timeout_keep_alive`` only runs between two requests of a connection: a client that
opens a connection and sends one header line, then nothing, would hold it for as long as it
likes. Here every request's headers (from the connection's opening, or from the first byte after
the previous answer) must be complete within ``HEADER_TIMEOUT`` seconds; otherwise the connection
is closed. The body has its own deadline (``webhook.body_timeout_seconds``, in ``service/app.py``).
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEADER_TIMEOUT", "HeaderDeadlineProtocol"]

HEADER_TIMEOUT = 5.0


class HeaderDeadlineProtocol(H11Protocol):
    """An h11 connection whose request headers must arrive within ``header_timeout`` seconds."""

    header_timeout = HEADER_TIMEOUT
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._deadline is None:
            self._arm()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the headers are complete: the request is the app's now

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
