"""`python -m server`: read settings, configure logs, serve until interrupted."""

from __future__ import annotations

import gc
import sys

import structlog
from aiohttp import web

from server.app import create_app
from server.engine.errors import AtelierError
from server.logs import configure_logging
from server.settings import SettingsError, load_settings, parse_args


async def freeze_startup_heap(app: web.Application) -> None:
    """Move everything built at start-up (modules, pydantic schemas, the catalog and workflows,
    the client sessions) out of the collector's reach. A full collection otherwise walks those
    ~60,000 objects every time: 12 ms idle, 30-50 ms under load, each one a stall of every
    stream on the loop (docs/performance.md, "Relay cost")."""
    gc.collect()
    gc.freeze()


def main(argv: list[str]) -> None:
    if argv[:1] == ["teacher"]:  # `python -m server teacher ...`: accounts, not the server
        from server.cli import main as teacher_main

        raise SystemExit(teacher_main(argv[1:]))
    try:
        settings = load_settings(parse_args(argv))
    except SettingsError as exc:
        print(f"atelier: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_format, settings.log_level)
    log = structlog.get_logger("server")
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        loop_factory = None
    else:
        loop_factory = uvloop.new_event_loop
    try:
        app = create_app(settings)
    except AtelierError as exc:  # a broken catalog or workflow file: name it, stop
        print(f"atelier: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    app.on_startup.append(freeze_startup_heap)  # after cleanup_ctx: its sessions are built
    log.info("listening", url=f"http://{settings.host}:{settings.port}/")
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        access_log=None,
        shutdown_timeout=10.0,
        loop=loop_factory() if loop_factory else None,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
