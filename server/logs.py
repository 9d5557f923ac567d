"""structlog set-up: JSON lines for machines, console rendering when stdout is a terminal."""

from __future__ import annotations

import logging
import sys

import orjson
import structlog


def configure_logging(fmt: str = "auto", level: str = "info") -> None:
    """Route structlog (and aiohttp's stdlib loggers) to stdout in the chosen format."""
    console = fmt == "console" or (fmt == "auto" and sys.stdout.isatty())
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer()
        if console
        else structlog.processors.JSONRenderer(serializer=_dumps)
    )
    numeric = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, force=True)


def _dumps(obj: object, default: object = None) -> str:
    return orjson.dumps(obj, default=str).decode()
