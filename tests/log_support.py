"""Capturing the log as it leaves the production flood guards, on a clock the test moves."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import structlog

from server.logs import RepeatLimiter, StdlibRepeatFilter, flood_guards

Line = dict[str, object]


class Clock:
    """A monotonic clock that only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def captured_log(
    processors: Sequence[structlog.types.Processor] | None = None,
) -> Iterator[list[Line]]:
    """Every line that passes `processors` (default: the flood guards on a frozen clock).

    The configured chain is changed in place, like structlog.testing.capture_logs, so loggers
    already bound by the modules see it too.
    """
    chain = structlog.get_config()["processors"]
    saved = list(chain)
    lines: list[Line] = []

    def keep(_logger: object, _method: str, event: Line) -> Line:
        lines.append(dict(event))
        raise structlog.DropEvent

    chain[:] = [*(flood_guards(Clock()) if processors is None else processors), keep]
    try:
        yield lines
    finally:
        chain[:] = saved


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def captured_records(logger: str, limiter: RepeatLimiter) -> Iterator[list[logging.LogRecord]]:
    """The stdlib records of `logger` that pass the limiter, as configure_logging filters them."""
    handler = _Kept()
    handler.addFilter(StdlibRepeatFilter(limiter))
    target = logging.getLogger(logger)
    target.addHandler(handler)
    try:
        yield handler.records
    finally:
        target.removeHandler(handler)
