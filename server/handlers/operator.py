"""The gate on operator endpoints (`/metrics`, `/api/status`): never served to students.

Let through: a logged-in teacher's cookie, `Authorization: Bearer <monitor_token>` (compared
in constant time), or any request that arrived on the separate monitoring listener
(`monitor_host`/`monitor_port`, which only the operator's network should reach). Everyone
else, guests and students included, gets 403 `operators_only`. `/healthz` and `/readyz` stay
public: they say nothing else.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Handler

from server.handlers.identity import identity_of
from server.handlers.keys import SETTINGS
from server.handlers.problems import problem
from server.protocol._http import ApiErrorCode

OPERATOR_PATHS = frozenset({"/metrics", "/api/status"})
_BEARER = "Bearer "


def bearer_ok(request: web.Request) -> bool:
    """The request carries the monitor token (when one is set)."""
    secret = request.app[SETTINGS].monitor_token
    header = request.headers.get("Authorization", "")
    if secret is None or not header.startswith(_BEARER):
        return False
    given = header[len(_BEARER) :].strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, secret.get_secret_value().encode("utf-8"))


def on_monitor_listener(request: web.Request) -> bool:
    """The request came in on the monitoring listener's port."""
    port = request.app[SETTINGS].monitor_port
    if port is None or request.transport is None:
        return False
    sockname = request.transport.get_extra_info("sockname")
    return isinstance(sockname, tuple) and len(sockname) >= 2 and sockname[1] == port


def is_operator(request: web.Request) -> bool:
    identity = identity_of(request)
    teacher = identity is not None and identity.is_teacher
    return teacher or bearer_ok(request) or on_monitor_listener(request)


@web.middleware
async def operator_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in OPERATOR_PATHS and not is_operator(request):
        raise problem(request, ApiErrorCode.OPERATORS_ONLY)
    return await handler(request)
