"""A database outage, as ``driftloop serve`` answers and logs it.

While a pipeline's database is unreachable, the endpoints that read it (``/healthz``, ``/runs``,
``/runs/{id}``, ``POST /hooks/...``) answer ``503`` with a one-line JSON reason and
``Retry-After``; the log gets one line per failure, no traceback; everything answers again when
the database is back (the engines reconnect on their own: ``pool_pre_ping``).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from driftloop.errors import SourceError
from driftloop.redaction import redact

__all__ = ["OUTAGE_ERRORS", "RETRY_AFTER_OUTAGE", "is_outage", "one_line", "quiet_tracebacks"]

log = logging.getLogger("driftloop.serve")

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (SourceError, sa.exc.SQLAlchemyError)
RETRY_AFTER_OUTAGE = 5
_QUIET_LOGGERS = (
    "driftloop.serve",
    "apscheduler.scheduler",
    "apscheduler.executors.default",
    "uvicorn.error",
)


def is_outage(err: BaseException) -> bool:
    """Whether ``err`` says a database could not be used (rather than a bug)."""
    return isinstance(err, OUTAGE_ERRORS)


def one_line(err: BaseException) -> str:
    """The first line of what went wrong (a driver's own message for a database error), with
    secrets redacted.

    Examples
    --------
    >>> one_line(ValueError("bad thing\\nat line 2"))
    'bad thing'
    """
    text = str(getattr(err, "orig", None) or err).strip()
    first = text.splitlines()[0] if text else type(err).__name__
    return redact(first[:200])


async def unavailable(request: Request, exc: Exception) -> Response:
    """The answer while a database is unreachable: 503, one line, Retry-After."""
    reason = f"the database is unavailable: {one_line(exc)}"
    log.warning("%s %s: %s", request.method, request.url.path, reason)
    return JSONResponse({"error": reason}, 503, headers={"Retry-After": str(RETRY_AFTER_OUTAGE)})


class _OneLineOutages(logging.Filter):
    """Folds a database outage's traceback into its record's one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and is_outage(exc):
            record.msg = f"{record.getMessage()}: {one_line(exc)}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_tracebacks() -> None:
    """Database outages logged by serve, its scheduler and uvicorn take one line each."""
    for name in _QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OneLineOutages) for f in logger.filters):
            logger.addFilter(_OneLineOutages())
