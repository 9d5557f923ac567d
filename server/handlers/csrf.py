"""CSRF defence for every state-changing HTTP call (POST, PUT, PATCH, DELETE).

Double submit: `GET /api/me` sets a random `atelier_csrf` cookie (readable by the page, not
httpOnly, `SameSite=Strict`) and the page echoes it in the `X-CSRF-Token` header; another site
can neither read the cookie nor set the header. The two are compared in constant time. An
`Origin` header, when the browser sends one, must be the page's own, the public address, or
one listed in `allowed_origins`. Anything else is refused with 403 `csrf`.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from server.handlers.identity import set_cookie
from server.handlers.keys import SETTINGS
from server.handlers.origin import origin_allowed
from server.handlers.problems import problem
from server.protocol._http import ApiErrorCode
from server.settings import Settings

CSRF_COOKIE = "atelier_csrf"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOKEN_BYTES = 32
#: What we issue (43 URL-safe characters); a cookie or header of any other shape is refused.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_COOKIE_SECONDS = 366 * 86_400


def _allowed_origins(settings: Settings) -> list[str]:
    allowed = list(settings.allowed_origins)
    if settings.public_url is not None:
        parts = urlsplit(settings.public_url)
        allowed.append(f"{parts.scheme}://{parts.netloc}")
    return allowed


def origin_ok(request: web.Request) -> bool:
    """No Origin (not a browser, or a same-origin GET), or an allowed one."""
    allowed = _allowed_origins(request.app[SETTINGS])
    return origin_allowed(request.headers.get("Origin"), request.host, allowed)


def token_ok(request: web.Request) -> bool:
    """The header repeats the cookie, both of the shape we issue."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not (_TOKEN_SHAPE.fullmatch(cookie) and _TOKEN_SHAPE.fullmatch(header)):
        return False
    return hmac.compare_digest(cookie.encode("ascii"), header.encode("ascii"))


def checked(request: web.Request) -> bool:
    """An unsafe method on a route that takes it; a request no route takes changes nothing
    and gets its plain 404 or 405."""
    return request.method in UNSAFE_METHODS and request.match_info.http_exception is None


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if checked(request) and not (origin_ok(request) and token_ok(request)):
        raise problem(request, ApiErrorCode.CSRF)
    return await handler(request)


def ensure_token(request: web.Request, response: web.StreamResponse) -> str:
    """The request's CSRF token, or a new one set on `response` when it has none."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if _TOKEN_SHAPE.fullmatch(token):
        return token
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    set_cookie(request, response, CSRF_COOKIE, token, _COOKIE_SECONDS, http_only=False)
    return token
