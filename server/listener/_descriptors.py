"""The open-file limit: raised at start-up, checked against the caps, watched while serving.

Every connection is a descriptor. With systemd's default soft limit (1,024) a thousand
sockets from one client once locked every student out, with nothing in the log: `accept`
failed quietly. At start-up the soft limit is raised to the hard one, and the server refuses
to start when even that is below what `max_connections` needs; while it serves, the open
descriptors are counted now and then and a warning is logged when they come near the limit.
"""

from __future__ import annotations

import asyncio
import os
import resource
from dataclasses import dataclass

import structlog

log = structlog.get_logger(__name__)

#: Descriptors a connection may hold: its socket, and the file a response is sending (a slow
#: reader of an image holds both). Below this many per connection start-up only warns: few
#: connections send files at once, and a failed file open answers one request with 500.
PER_CONNECTION_SENDING = 2
#: Descriptors kept beyond the connections' for the server itself: its listeners, the log,
#: the backend clients' connections, SQLite, media files being written.
DESCRIPTOR_RESERVE = 256
#: Open descriptors at this share of the limit are "near it".
NEAR_SHARE = 0.8
#: Seconds between two counts of the open descriptors (a count lists /proc/self/fd).
SAMPLE_INTERVAL = 2.0
#: Least seconds between two `descriptors_near_limit` lines.
NEAR_LOG_INTERVAL = 60.0
#: Where a hard limit is "unlimited", the soft one is raised this far (Linux's nr_open).
UNLIMITED_TARGET = 1024 * 1024
_FD_DIR = "/proc/self/fd"


@dataclass(frozen=True, slots=True)
class FileLimit:
    """The soft open-file limit in force, the hard one, and the soft one found at start."""

    soft: int
    hard: int
    found: int


def needed(max_connections: int, per_connection: int = 1) -> int:
    """Descriptors the caps need: every allowed connection's, and the server's own."""
    return per_connection * max_connections + DESCRIPTOR_RESERVE


def raise_soft_limit() -> FileLimit:
    """Raise the soft open-file limit to the hard one (as far as the kernel lets us)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):  # a kernel cap below the hard limit: keep what we have
            target = soft
    else:
        target = soft
    return FileLimit(soft=target, hard=hard, found=soft)


def too_low(limit: FileLimit, max_connections: int) -> str | None:
    """The one line that stops start-up when the limit cannot hold the caps; else None."""
    need = needed(max_connections)
    if limit.soft >= need:
        return None
    return (
        f"the open-file limit is {limit.soft} (hard limit {limit.hard}), below the {need} "
        f"that max_connections={max_connections} needs ({DESCRIPTOR_RESERVE} more than the "
        "connections, for the server itself): raise LimitNOFILE= in the systemd unit "
        "(docs/operations.md) or lower max_connections"
    )


def tight(limit: FileLimit, max_connections: int) -> int | None:
    """What the limit should be when it holds the connections but not a file sent on each."""
    want = needed(max_connections, PER_CONNECTION_SENDING)
    return want if limit.soft < want else None


def open_descriptors() -> int | None:
    """How many descriptors this process has open; None where that cannot be counted."""
    try:
        return len(os.listdir(_FD_DIR))
    except OSError:
        return None


class NearLimit:
    """Whether a count of open descriptors is worth a warning: near the limit, and not
    warned about in the last `NEAR_LOG_INTERVAL` seconds. Pure: the caller passes the clock."""

    __slots__ = ("_last", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._last: float | None = None

    def warn(self, count: int, now: float) -> bool:
        if count < self.limit * NEAR_SHARE:
            return False
        if self._last is not None and now - self._last < NEAR_LOG_INTERVAL:
            return False
        self._last = now
        return True


async def watch_descriptors(limit: int) -> None:
    """Count the open descriptors every `SAMPLE_INTERVAL` seconds until cancelled; log
    `descriptors_near_limit` (at most once a minute) when they come near `limit`."""
    near = NearLimit(limit)
    loop = asyncio.get_running_loop()
    while (count := open_descriptors()) is not None:
        if near.warn(count, loop.time()):
            log.warning("descriptors_near_limit", open=count, limit=limit)
        await asyncio.sleep(SAMPLE_INTERVAL)
