"""The aiohttp application: routes, app state under typed keys, start-up and shutdown."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

import structlog
from aiohttp import web

from server.engine.service import NoRuns, RunService
from server.engine.session import WelcomeInfo
from server.engine.sessions import SessionConfig, SessionRegistry
from server.engine.stats import SocketStats
from server.handlers import ops
from server.handlers.keys import READY, REGISTRY, RUNS, SETTINGS, SOCKETS, STATS
from server.handlers.ws import websocket_handler
from server.protocol import CloseCode, Limits
from server.settings import Settings

log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def welcome_info(settings: Settings, demo: bool) -> WelcomeInfo:
    limits = Limits(
        max_message_bytes=settings.max_message_bytes,
        max_prompt_chars=settings.max_prompt_chars,
        max_meta_prompt_chars=settings.max_meta_prompt_chars,
        max_runs_in_flight=settings.max_runs_in_flight,
        messages_per_second=settings.messages_per_second,
    )
    return WelcomeInfo(limits, settings.heartbeat_idle, demo)


def create_app(
    settings: Settings, *, runs: RunService | None = None, demo: bool = False
) -> web.Application:
    app = web.Application(client_max_size=settings.max_message_bytes)
    stats = SocketStats()
    app[SETTINGS] = settings
    app[STATS] = stats
    app[REGISTRY] = SessionRegistry(
        SessionConfig(
            max_sessions=settings.max_sessions,
            resume_grace=settings.resume_grace,
            event_log_limit=settings.event_log_limit,
        ),
        welcome_info(settings, demo),
        stats,
    )
    app[RUNS] = runs if runs is not None else NoRuns()
    app[SOCKETS] = weakref.WeakSet()
    app[READY] = asyncio.Event()
    app[ops.METRICS] = ops.metrics_registry(app)
    app.on_startup.append(_mark_ready)
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/ws", websocket_handler)
    app.router.add_get("/healthz", ops.healthz)
    app.router.add_get("/readyz", ops.readyz)
    app.router.add_get("/metrics", ops.metrics)
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    return app


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def _mark_ready(app: web.Application) -> None:
    app[READY].set()


async def _close_sockets(app: web.Application) -> None:
    """Shutdown: every socket gets GOING_AWAY and every session runs its cleanup hooks."""
    app[READY].clear()
    await app[REGISTRY].close_all(CloseCode.GOING_AWAY)
    sockets: weakref.WeakSet[web.WebSocketResponse] = app[SOCKETS]
    for ws in list(sockets):  # sockets that never said hello
        if not ws.closed:
            await ws.close(code=CloseCode.GOING_AWAY, message=b"server shutting down")
    log.info("shutdown_sockets_closed")
