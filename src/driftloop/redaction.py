"""Secrets out of every log line: one redaction rule, installed at the logging layer.

Passwords in URLs (``scheme://user:password@host``), secret-looking query parameters
(``?token=``, ``api_key=``, ``X-Amz-Signature=``...), Slack webhook paths and bearer tokens are
replaced by ``***`` in every record any logger creates — driftloop's, uvicorn's, httpx's, MLflow's —
including formatted tracebacks. :func:`install` is idempotent; ``import driftloop`` calls it.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

__all__ = ["install", "redact"]

_PATTERNS = (
    # scheme://user:password@host -> scheme://user:***@host
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*):[^/\s@]+@"), r"\1:***@"),
    # ?token=..., &api_key=..., X-Amz-Signature=..., password=...
    (
        re.compile(
            r"([?&;][^=&\s#]*(?:token|key|secret|passw|pwd|sig|credential|auth|session)"
            r"[^=&\s#]*=)[^&\s#\"'<>]+",
            re.IGNORECASE,
        ),
        r"\1***",
    ),
    # Slack incoming-webhook URLs carry their secret in the path (any host: proxies, tests)
    (re.compile(r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s\"'<>]+"), r"\1***"),
    (re.compile(r"(/services/T[A-Z0-9]+/B[A-Z0-9]+/)[^\s\"'<>/]+"), r"\1***"),
    (re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=\-]+", re.IGNORECASE), r"\1***"),
)


def redact(text: str) -> str:
    """``text`` with URL passwords, secret query parameters, Slack hook paths and bearer tokens
    replaced by ``***``.

    Examples
    --------
    >>> redact("GET https://u:pw@example.com/d.csv?x=1&token=abc HTTP/1.1")
    'GET https://u:***@example.com/d.csv?x=1&token=*** HTTP/1.1'
    >>> redact("POST https://hooks.slack.com/services/T0/B0/XyZ")
    'POST https://hooks.slack.com/services/***'
    >>> redact("https://h/x?api_key=k1&X-Amz-Signature=f00")
    'https://h/x?api_key=***&X-Amz-Signature=***'
    """
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_installed = False
_lock = threading.Lock()
_formatter = logging.Formatter()


def install() -> None:
    """Redact every log record from now on, whatever logger creates it."""
    global _installed
    with _lock:
        if _installed:
            return
        make_record = logging.getLogRecordFactory()

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            return _redacted(record)

        logging.setLogRecordFactory(redacting_factory)
        _installed = True


def _redacted(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed format: leave it to logging's own error handling
        return record
    record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact(_formatter.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record
