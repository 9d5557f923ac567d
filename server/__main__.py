"""`python -m server`: read settings, configure logs, serve until interrupted."""

from __future__ import annotations

import asyncio
import gc
import sys

import structlog
from aiohttp import web

from server.app import create_app
from server.engine.errors import AtelierError
from server.listener import FileLimit, PortInUse, raise_soft_limit, serve, tight, too_low
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
    file_limit = checked_file_limit(settings.max_connections)
    log.info("open_file_limit", limit=file_limit.soft, hard=file_limit.hard, was=file_limit.found)
    if (want := tight(file_limit, settings.max_connections)) is not None:
        log.warning("open_file_limit_tight", limit=file_limit.soft, want=want)
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
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(serve(app, settings, file_limit.soft))
    except PortInUse as exc:  # another server on the port: say which setting to change
        print(f"atelier: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def checked_file_limit(max_connections: int) -> FileLimit:
    """The open-file limit, raised to the hard one; start-up stops when it cannot hold the
    connections the caps allow (a full descriptor table refuses everyone, silently)."""
    file_limit = raise_soft_limit()
    problem = too_low(file_limit, max_connections)
    if problem is not None:
        print(f"atelier: {problem}", file=sys.stderr)
        raise SystemExit(2)
    return file_limit


if __name__ == "__main__":
    main(sys.argv[1:])
