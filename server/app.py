"""The aiohttp application: routes, app state under typed keys, start-up and shutdown."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

import structlog
from aiohttp import web

from server.engine.pipeline import Pipeline
from server.engine.service import RunService
from server.engine.session import WelcomeInfo
from server.engine.sessions import SessionConfig, SessionRegistry
from server.engine.stats import SocketStats
from server.handlers import api, ops
from server.handlers.keys import PIPELINE, READY, REGISTRY, RUNS, SETTINGS, SOCKETS, STATS
from server.handlers.ws import websocket_handler
from server.protocol import CloseCode, Limits
from server.settings import Settings
from server.wiring import RUNTIME, DemoOptions, Runtime, load_definitions, pipeline_context

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
    settings: Settings,
    *,
    runs: RunService | None = None,
    demo: bool | None = None,
    demo_options: DemoOptions | None = None,
) -> web.Application:
    """The server. With `runs` given (socket-level tests) no pipeline is built; otherwise the
    catalog is loaded now, so a broken file stops start-up, and backends start with the app."""
    app = web.Application(client_max_size=settings.max_message_bytes)
    if demo is None:
        demo = settings.uses_demo()
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
    app[SOCKETS] = weakref.WeakSet()
    app[READY] = asyncio.Event()
    app[ops.METRICS] = ops.metrics_registry(app)
    if runs is None:
        pipeline = Pipeline()
        app[PIPELINE] = app[RUNS] = pipeline
        app[REGISTRY].new_session_hooks.append(pipeline.adopt)
        options = (demo_options or DemoOptions()) if demo else None
        app[RUNTIME] = Runtime()
        app.cleanup_ctx.append(
            pipeline_context(
                pipeline, settings, load_definitions(settings), app[ops.METRICS], options
            )
        )
        ops.register_pipeline(app[ops.METRICS], pipeline)
        app.router.add_get("/api/catalog", api.catalog)
        app.router.add_get("/api/status", api.status)
        app.router.add_get("/media/{run}/{file}", api.media)
    else:
        app[RUNS] = runs
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
