"""The aiohttp application: routes, app state under typed keys, start-up and shutdown.

Composed from parts: `socket_app` (sessions, the socket, ops endpoints, the page) and
`add_pipeline` (the pipeline and its API); `create_app` is both, and tests pick what they need.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from aiohttp import web

from server.engine.pipeline import Pipeline
from server.engine.ratelimit import SharedBuckets
from server.engine.service import NoRuns, RunService
from server.engine.session import WelcomeInfo
from server.engine.session_table import SessionBounds
from server.engine.sessions import ReplayLimits, SessionConfig, SessionRegistry
from server.engine.state import open_state
from server.engine.stats import SocketStats
from server.handlers import api, connlimit, export, ops, people, pictures, static_files, uploads
from server.handlers.client_address import TRUSTED_PROXIES, parse_networks
from server.handlers.headers import security_headers
from server.handlers.hostcheck import AllowedHosts, host_check
from server.handlers.keys import (
    CLASSES,
    LESSONS,
    MESSAGE_BUDGETS,
    PEOPLE,
    PIPELINE,
    READY,
    REGISTRY,
    RUNS,
    SETTINGS,
    SOCKETS,
    STATS,
)
from server.handlers.ws import websocket_handler
from server.protocol import CloseCode, Limits
from server.settings import Settings, access_mode
from server.wiring import (
    DEMO,
    DemoOptions,
    StartedPipeline,
    load_definitions,
    running_pipeline,
)

log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def welcome_info(settings: Settings, demo: bool) -> WelcomeInfo:
    limits = Limits(
        max_message_bytes=settings.max_message_bytes,
        max_prompt_chars=settings.max_prompt_chars,
        max_meta_prompt_chars=settings.max_meta_prompt_chars,
        max_runs_in_flight=settings.max_runs_in_flight,
        messages_per_second=settings.messages_per_second,
        max_upload_bytes=settings.max_upload_bytes,
    )
    return WelcomeInfo(limits, settings.heartbeat_idle, demo, access_mode(settings))


def create_app(settings: Settings, *, demo_options: DemoOptions | None = None) -> web.Application:
    """The server: the socket layer with the pipeline on it, on the simulators (shaped by
    `demo_options`) when the settings call for demo backends."""
    demo = settings.uses_demo()
    app = socket_app(settings, runs=NoRuns(), demo=demo)
    add_pipeline(app, settings, (demo_options or DemoOptions()) if demo else None)
    return app


def socket_app(settings: Settings, *, runs: RunService, demo: bool) -> web.Application:
    """The socket layer alone: sessions, `/ws`, health, metrics and the page. Run commands go
    to `runs` until a pipeline is published in its place; `demo` is what `welcome` says."""
    app = web.Application(client_max_size=settings.max_message_bytes)
    app.middlewares.append(host_check(AllowedHosts.of(settings)))  # first: outermost
    app.on_response_prepare.append(security_headers)
    connlimit.install(app, settings)  # before any middleware that costs (cookies, database)
    app.middlewares.extend(people.MIDDLEWARES)
    stats = SocketStats()
    app[SETTINGS] = settings
    app[TRUSTED_PROXIES] = parse_networks(settings.trusted_proxies)
    app[STATS] = stats
    app[REGISTRY] = SessionRegistry(
        SessionConfig(
            max_sessions=settings.max_sessions,
            resume_grace=settings.resume_grace,
            event_log_limit=settings.event_log_limit,
            event_log_bytes=settings.event_log_bytes,
            replay=ReplayLimits(
                settings.max_replay_bytes, settings.resumes_per_minute, settings.resume_burst
            ),
            bounds=SessionBounds(
                settings.max_sessions_per_person, settings.max_sessions_per_address
            ),
        ),
        welcome_info(settings, demo),
        stats,
        open_state(settings.state, settings.redis_url),
    )
    app[SOCKETS] = weakref.WeakSet()
    app[MESSAGE_BUDGETS] = SharedBuckets(
        settings.messages_per_second_per_person, settings.message_burst_per_person
    )
    app[READY] = asyncio.Event()
    app[RUNS] = runs
    app[ops.METRICS] = ops.metrics_registry(app)
    app[static_files.STATIC] = static_files.StaticFiles(STATIC_DIR)
    app[export.EXPORTING] = set()
    # After every cleanup context (aiohttp runs those first): ready means the pipeline is up.
    app.on_startup.append(_mark_ready)
    app.on_shutdown.append(_close_sockets)
    app.on_cleanup.append(_close_state)
    app.cleanup_ctx.append(people.people_context)
    people.add_routes(app.router)
    _add_socket_routes(app.router)
    return app


def _add_socket_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ws", websocket_handler)
    router.add_get("/healthz", ops.healthz)
    router.add_get("/readyz", ops.readyz)
    router.add_get("/metrics", ops.metrics)
    # Compressed, with content-hashed URLs and ETags (`handlers/static_files.py`). A wall's
    # page is the page only: what it shows is asked for by the page (`handlers/wall.py`).
    router.add_get("/", static_files.page("index.html"))
    router.add_get("/teacher", static_files.page("teacher.html"))
    router.add_get("/wall/{class}", static_files.page("wall.html"))
    router.add_get("/favicon.ico", static_files.favicon)
    router.add_get("/static/{path:.+}", static_files.static_file)


def add_pipeline(app: web.Application, settings: Settings, demo: DemoOptions | None) -> None:
    """The pipeline on a socket app. The catalog is loaded now, so a broken file stops
    start-up; backends, scheduler and records start with the app (on the simulators when
    `demo` is given), and the pipeline is published once all of them are up."""
    definitions = load_definitions(settings)

    async def pipeline_context(app: web.Application) -> AsyncIterator[None]:
        # The people store is open by now: the socket app's context comes first.
        async with running_pipeline(
            settings, definitions, app[ops.METRICS], demo, app[PEOPLE]
        ) as started:
            await started.pipeline.services.lessons.load(app[PEOPLE])  # the ended lessons
            _publish(app, started)
            yield

    app.cleanup_ctx.append(pipeline_context)
    app.router.add_get("/api/catalog", api.catalog)
    app.router.add_get("/api/status", api.status)
    app.router.add_get("/media/{run}/{file}", api.media)
    app.router.add_get("/api/pictures", pictures.list_pictures)
    app.router.add_delete("/api/pictures/{run}", pictures.delete_picture)
    uploads.add_routes(app.router)  # a student's own picture (image-to-image)


def _publish(app: web.Application, started: StartedPipeline) -> None:
    """Make the finished pipeline what handlers, new sessions and metrics see."""
    pipeline = started.pipeline
    ops.register_pipeline(app[ops.METRICS], pipeline)
    app[REGISTRY].new_session_hooks.append(pipeline.adopt)
    app[PIPELINE] = app[RUNS] = pipeline
    hub = app[CLASSES] = pipeline.services.classes
    app[LESSONS] = pipeline.services.lessons
    hub.directory = app[PEOPLE]
    app[REGISTRY].new_session_hooks.append(hub.session_opened)
    if started.simulators is not None:
        app[DEMO] = started.simulators


async def _mark_ready(app: web.Application) -> None:
    app[READY].set()


async def _close_sockets(app: web.Application) -> None:
    """Shutdown: unfinished runs end first (their `run.done` says the server is restarting),
    then every socket gets GOING_AWAY and every session runs its cleanup hooks."""
    app[READY].clear()
    if PIPELINE in app:
        await _end_runs(app, app[PIPELINE])
    await app[REGISTRY].close_all(CloseCode.GOING_AWAY)
    sockets: weakref.WeakSet[web.WebSocketResponse] = app[SOCKETS]
    for ws in list(sockets):  # sockets that never said hello
        if not ws.closed:
            await ws.close(code=CloseCode.GOING_AWAY, message=b"server shutting down")
    log.info("shutdown_sockets_closed")


async def _close_state(app: web.Application) -> None:
    """After the sessions closed: their last writes reach the shared store, then let go."""
    await app[REGISTRY].state.aclose()


async def _end_runs(app: web.Application, pipeline: Pipeline) -> None:
    """End every unfinished run while its socket is open, and have those sockets send what
    they hold (the `run.done`s) before the close: the first close asked for is the one kept,
    so the registry's close after this one does not drop the outbox."""
    for session_id in await pipeline.shutdown():
        session = app[REGISTRY].get(session_id)
        if session is not None and session.connection is not None:
            session.connection.close(CloseCode.GOING_AWAY, "server restarting", drain=True)
