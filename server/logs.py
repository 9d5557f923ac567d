"""structlog set-up: JSON lines for machines, console rendering when stdout is a terminal.

Two processors keep one client from flooding the log (issue 15): every string value is cut
to `LOG_VALUE_MAX_CHARS` (a 64 KiB `Origin` header was logged whole), and a line repeated
for one client (same event, same `client` field; lines without one are never held back) more
than `LOG_REPEATS_PER_WINDOW` times in `LOG_REPEAT_WINDOW` seconds is dropped, counted, and
summed up in one `log_lines_suppressed` line before the first line after its window ends.
The same limiter filters the stdlib records (aiohttp logs every malformed request from a
client with a traceback).
"""

from __future__ import annotations

import logging
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson
import structlog

#: Longest logged string value; longer ones keep their start, a marker and their length.
#: Long enough for a backend's own error text (an operator needs its URL and reason whole),
#: short enough that a client's header or field cannot make a line large; the repeat limit
#: below bounds how many such lines one client gets.
LOG_VALUE_MAX_CHARS = 1024
#: Keys never cut: the event name is ours, a traceback is needed whole.
_UNCUT_KEYS = frozenset({"event", "exception"})
#: Lines of one event for one client let through per window; the rest are counted.
LOG_REPEATS_PER_WINDOW = 5
#: Seconds a repeat window lasts, from its first line.
LOG_REPEAT_WINDOW = 10.0
#: Windows tracked at once (event x client); the oldest is closed early when full.
LOG_REPEAT_KEYS_MAX = 1024
SUPPRESSED_EVENT = "log_lines_suppressed"

EventDict = MutableMapping[str, Any]
Processor = structlog.types.Processor


def configure_logging(fmt: str = "auto", level: str = "info") -> None:
    """Route structlog (and aiohttp's stdlib loggers) to stdout in the chosen format."""
    console = fmt == "console" or (fmt == "auto" and sys.stdout.isatty())
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer()
        if console
        else structlog.processors.JSONRenderer(serializer=_dumps)
    )
    numeric = logging.getLevelNamesMapping()[level.upper()]
    guards = flood_guards()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *guards,
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
    for handler in logging.getLogger().handlers:
        handler.addFilter(StdlibRepeatFilter(guards[-1]))


def flood_guards(clock: Callable[[], float] = time.monotonic) -> tuple[Processor, RepeatLimiter]:
    """The processors that bound what one client can put into the log, in their order."""
    return cut_long_values, RepeatLimiter(clock)


def cut_long_values(_logger: object, _method: str, event: EventDict) -> EventDict:
    """Cut every long string value (client-supplied ones are the point) to the bound."""
    for key, value in event.items():
        if key not in _UNCUT_KEYS and isinstance(value, str | bytes):
            event[key] = cut(value)
    return event


def cut(value: str | bytes) -> str | bytes:
    """`value` itself when short enough; else its start, a marker and the original length."""
    if len(value) <= LOG_VALUE_MAX_CHARS:
        return value
    head = value[:LOG_VALUE_MAX_CHARS]
    text = head.decode(errors="replace") if isinstance(head, bytes) else head
    return f"{text}…[cut, {len(value)} in all]"


@dataclass
class _Window:
    opened: float
    lines: int = 0
    suppressed: int = 0


class RepeatLimiter:
    """Drops a line repeated too often for one client; reports the count when its window ends.

    Windows are kept in opening order, so closing the expired ones pops from the front:
    amortised constant work per line, and at most `LOG_REPEAT_KEYS_MAX` windows in memory.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._windows: OrderedDict[tuple[str, str], _Window] = OrderedDict()
        self._reporting = False

    def __call__(self, _logger: object, _method: str, event: EventDict) -> EventDict:
        if self._reporting:
            return event  # the summary line itself
        now = self._clock()
        self._close_expired(now)
        if event.get("client") is None:
            return event  # no client caused it (`run_done`, a backend's state): never held
        window = self._window(_key(event), now)
        window.lines += 1
        if window.lines > LOG_REPEATS_PER_WINDOW:
            window.suppressed += 1
            raise structlog.DropEvent
        return event

    def _window(self, key: tuple[str, str], now: float) -> _Window:
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) >= LOG_REPEAT_KEYS_MAX:
                self._close_oldest()
            window = self._windows[key] = _Window(opened=now)
        return window

    def _close_expired(self, now: float) -> None:
        while self._windows:
            window = next(iter(self._windows.values()))
            if now - window.opened < LOG_REPEAT_WINDOW:
                return
            self._close_oldest()

    def _close_oldest(self) -> None:
        (event, client), window = self._windows.popitem(last=False)
        if window.suppressed:
            self._report(event, client, window.suppressed)

    def _report(self, event: str, client: str, count: int) -> None:
        self._reporting = True
        try:
            structlog.get_logger(__name__).warning(
                SUPPRESSED_EVENT, of=event, client=client, count=count
            )
        finally:
            self._reporting = False


class StdlibRepeatFilter(logging.Filter):
    """Passes a stdlib record through a RepeatLimiter: its template is the event, its first
    argument the client (aiohttp: "Error handling request from %s", the client address)."""

    def __init__(self, limiter: RepeatLimiter) -> None:
        super().__init__()
        self._limiter = limiter

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if not args:
            return True  # no argument, no client to hold back
        event = {"event": cut(f"{record.name}: {record.msg}"), "client": cut(str(args[0]))}
        try:
            self._limiter(None, record.levelname, event)
        except structlog.DropEvent:
            return False
        return True


def _key(event: EventDict) -> tuple[str, str]:
    # Already cut to the bound by `cut_long_values`, so a key's size is bounded too.
    return str(event.get("event")), str(event.get("client"))


def _dumps(obj: object, default: object = None) -> str:
    return orjson.dumps(obj, default=str).decode()
