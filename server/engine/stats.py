"""Server-wide counters, plain integers read by /metrics and by tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class SocketStats:
    sockets_open: int = 0
    messages_in: int = 0
    messages_out: int = 0
    outbox_overflows: int = 0
    send_timeouts: int = 0
    rate_limited: int = 0
    resumes: int = 0
    resume_failures: int = 0
    resyncs: int = 0
    replayed_events: int = 0
    sessions_created: int = 0
    sessions_expired: int = 0
    sessions_displaced: int = 0
    sessions_refused: int = 0
