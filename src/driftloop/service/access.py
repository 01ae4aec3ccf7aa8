"""Read access to the dashboard, ``/api``, ``/runs`` and ``/metrics``.

With ``dashboard.token`` set (in any served pipeline's config), a request passes with
``Authorization: Bearer TOKEN`` or with the cookie the login form (``/ui/login``) sets; others get
401 (the dashboard's pages answer with the login form). The cookie holds a keyed hash of the
token, never the token; every comparison is constant-time. Webhooks keep their own token and
``/healthz`` stays open. Without a token everything is open: serve it on 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["COOKIE", "ReadAccess", "cookie_value", "is_loopback", "login_cookie"]

COOKIE = "driftloop_read"
PROTECTED = ("/ui", "/api", "/runs", "/metrics")
OPEN = ("/ui/login",)


def cookie_value(token: str) -> str:
    """What the login cookie holds for ``token``: a keyed hash, so the cookie is not the token.

    Examples
    --------
    >>> cookie_value("s3cret") == cookie_value("s3cret") != cookie_value("other")
    True
    """
    return hmac.new(token.encode(), b"driftloop dashboard read", hashlib.sha256).hexdigest()


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ReadAccess:
    """ASGI middleware: the read token in front of the protected paths."""

    def __init__(self, app: ASGIApp, tokens: Iterable[str], on_refused: ASGIApp) -> None:
        self.app = app
        self.tokens = [t for t in tokens if t]
        self.cookies = [cookie_value(t) for t in self.tokens]
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.tokens or not _protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self.allows(Request(scope)):
            await self.app(scope, receive, send)
            return
        await self.on_refused(scope, receive, send)

    def allows(self, request: Request) -> bool:
        bearer = request.headers.get("authorization", "")
        cookie = request.cookies.get(COOKIE, "")
        ok = False  # every candidate is compared, so timing says nothing about which one failed
        for token, hashed in zip(self.tokens, self.cookies, strict=True):
            ok |= hmac.compare_digest(bearer.encode(), f"Bearer {token}".encode())
            ok |= hmac.compare_digest(cookie.encode(), hashed.encode())
        return ok


def login_cookie(tokens: Iterable[str], given: str) -> str | None:
    """The cookie value for a token typed into the login form, or None when it is wrong."""
    found = None
    for token in tokens:  # compared with every token: the time taken does not tell which
        if token and hmac.compare_digest(given.encode(), token.encode()):
            found = cookie_value(token)
    return found


def _protected(path: str) -> bool:
    def under(prefixes: tuple[str, ...]) -> bool:
        return any(path == p or path.startswith(p + "/") for p in prefixes)

    return under(PROTECTED) and not under(OPEN)
