"""Requests and WebSocket upgrades in progress, bounded per client address and in all.

The listener (`server.listener`) counts connections when it accepts them, but it sees only
the peer, and behind a trusted proxy (cloudflared) every peer is the proxy. So every request
is also counted here, under its client address (`client_address`: named by trusted proxies
only), for as long as it is in progress: a WebSocket for its whole life, a page or API call
until it is answered. An idle keep-alive connection of a proxy belongs to no client (the
proxy reuses it for anyone) and is bounded by the listener's caps and `header_timeout`.

An upgrade is pending from its request until its answer (the 101 or a refusal): the time a
flood of upgrades costs us work (cookie checks) before any session bounds it.

A request beyond a cap is answered at once (429 for its address, 503 for the total) and its
connection closed. The refusals of one address are logged once when they begin and once,
with their count, when they end (`server.engine.tally`).

A request's body must arrive whole within `body_timeout` (its head's bound is aiohttp's
keep-alive timer, which the listener sets to `header_timeout`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from server.engine.tally import EpisodeEnd, Refusal, Scope, Tally
from server.handlers.client_address import client_address
from server.handlers.problems import problem, request_lang
from server.protocol import Lang
from server.protocol._http import ApiErrorCode
from server.settings import Settings

log = structlog.get_logger(__name__)

#: Seconds a refused client is asked to wait (`Retry-After`).
RETRY_AFTER = 5
#: The one path whose handler reads its body itself, as it streams (students' uploads).
STREAMED_PATH = "/api/uploads"
_MESSAGES: dict[Scope, dict[Lang, str]] = {
    Scope.KEY: {
        "en": "Too many connections from your network at once. Wait a moment and try again.",
        "de": "Zu viele Verbindungen aus deinem Netz auf einmal. Warte kurz und versuch es "
        "noch einmal.",
    },
    Scope.TOTAL: {
        "en": "The server is very busy right now. Wait a moment and try again.",
        "de": "Der Server ist gerade sehr beschäftigt. Warte kurz und versuch es noch einmal.",
    },
}
_STATUS = {Scope.KEY: 429, Scope.TOTAL: 503}
#: The address whose pending upgrade this request holds, until the upgrade is answered.
_PENDING = web.RequestKey("pending_upgrade", str)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Requests in progress per client address (the total is the listener's), pending
    upgrades per address and in all, and the time a body may take."""

    requests: Tally
    upgrades: Tally
    body_timeout: float

    @classmethod
    def of(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            requests=Tally(settings.max_connections_per_address, settings.max_connections),
            upgrades=Tally(
                settings.max_pending_upgrades_per_address, settings.max_pending_upgrades
            ),
            body_timeout=settings.body_timeout,
        )


CONNECTION_LIMITS = web.AppKey("connection_limits", ConnectionLimits)


def install(app: web.Application, settings: Settings) -> None:
    """Put the limits on `app`: call it before the middlewares that cost something (cookie
    checks, the database), so that a refused request costs none of that."""
    app[CONNECTION_LIMITS] = ConnectionLimits.of(settings)
    app.middlewares.append(connection_limits)
    app.on_response_prepare.append(_upgrade_answered)


@web.middleware
async def connection_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    limits = request.app[CONNECTION_LIMITS]
    address = client_address(request)
    _take(request, limits.requests, address, "connections_refused")
    try:
        if _is_upgrade(request):
            _take(request, limits.upgrades, address, "upgrades_refused")
            request[_PENDING] = address
        try:
            await _read_body(request, limits.body_timeout)
            return await handler(request)
        finally:
            _settle_upgrade(request)
    finally:
        log_ends("connections_refused", limits.requests.release(address))


def _is_upgrade(request: web.Request) -> bool:
    return request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"


def _take(request: web.Request, tally: Tally, address: str, event: str) -> None:
    refusal = tally.take(address)
    if refusal is None:
        return
    limit = tally.per_key if refusal.scope is Scope.KEY else tally.total
    log_refusal(event, refusal, address, limit)
    raise refused(request, refusal.scope)


def refused(request: web.Request, scope: Scope) -> web.HTTPException:
    """The answer to a request beyond a cap (the API's `rate_limited`, in the browser's
    language); its connection is closed after it."""
    message = _MESSAGES[scope][request_lang(request)]
    headers = {"Retry-After": str(RETRY_AFTER)}
    exc = problem(request, ApiErrorCode.RATE_LIMITED, message, headers=headers)
    exc.set_status(_STATUS[scope])
    exc.force_close()
    return exc


async def _read_body(request: web.Request, timeout: float) -> None:
    """Read the body now, within the bound; handlers then get it from aiohttp's cache. An
    upload streams its own body, under its own bounds (`uploads.py`: `upload_timeout`)."""
    if not request.body_exists or request.path == STREAMED_PATH:
        return
    try:
        async with asyncio.timeout(timeout):
            await request.read()
    except TimeoutError:
        log.info("body_timeout", client=client_address(request), path=request.path)
        exc = web.HTTPRequestTimeout(text="the request body did not arrive in time")
        exc.force_close()
        raise exc from None


async def _upgrade_answered(request: web.Request, _response: web.StreamResponse) -> None:
    _settle_upgrade(request)


def _settle_upgrade(request: web.Request) -> None:
    """The upgrade is answered (or its request is over): its pending slot is free."""
    address = request.pop(_PENDING, None)
    if address is not None:
        log_ends("upgrades_refused", request.app[CONNECTION_LIMITS].upgrades.release(address))


def log_refusal(event: str, refusal: Refusal, client: str | None, limit: int) -> None:
    """The first refusal of an episode is logged; the rest are counted (`log_ends`)."""
    if refusal.first:
        named = client if refusal.scope is Scope.KEY else None
        log.warning(event, client=named, scope=refusal.scope.value, limit=limit)


def log_ends(event: str, ends: list[EpisodeEnd]) -> None:
    for end in ends:
        log.info(f"{event}_ended", client=end.key, scope=end.scope.value, refused=end.refused)
