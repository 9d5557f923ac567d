"""What instances share so that a session survives on another one: the interface.

A session lives on the instance that holds its socket. What another instance needs to resume
it is small: that the session exists, whose it is, a hash of its resume secret, and its event
log (the encoded messages with their `seq`). `SharedState` is that, as one instance sees it:
lifecycle writes are plain calls (queued by a shared back end, never awaited on the socket's
path), and the one read that needs the store, `adopt`, is awaited once per cross-instance
resume. The session's `EventLog` is the back end's: the embedded one is today's in-process
log; a shared one also appends every message to the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from server.engine.eventlog import EventLog
from server.engine.people.identity import Identity

#: The back ends' counters on /metrics (`atelier_state_<name>_total`), with their help.
STATE_COUNTERS = {
    "appends": "events appended to the shared state store",
    "round_trips": "round trips to the shared state store",
    "fenced": "sessions another instance took over, found at this one's next write",
    "lost": "sessions whose record the store no longer had, written again",
    "failures": "writes to the store that failed and were sent again",
    "dropped": "writes dropped because the store was away too long (a resume elsewhere resyncs)",
}

#: Called with a session id when the store says another instance now owns that session.
FencedHook = Callable[[str], None]

L = TypeVar("L", bound=EventLog)


@dataclass(frozen=True, slots=True)
class Person:
    """Who may resume a session: the same owner key, or any cookie-less client (those are
    proven by the resume secret alone). The registry applies it to its own sessions too."""

    key: str
    anonymous: bool

    @classmethod
    def of(cls, identity: Identity) -> Person:
        return cls(identity.key, identity.is_anonymous)

    def may_resume(self, caller: Person) -> bool:
        return self.key == caller.key or (self.anonymous and caller.anonymous)


@dataclass(frozen=True, slots=True)
class LogBounds:
    """A session's log bounds (`event_log_limit`, `event_log_bytes`)."""

    entries: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Resumes:
    """How often one session may move between instances (`resumes_per_minute`, its burst):
    each move reads its whole stored log, so a client hopping between instances must not get
    a fresh allowance from each."""

    per_minute: float
    burst: int


class AdoptLimited(Exception):
    """The session moved between instances more often than `Resumes` allows."""


@dataclass(frozen=True, slots=True)
class Adopted:
    """A session taken over: its log (numbering on after the last seq it had) and the
    messages the store kept, oldest first (`orphans.py` reads them even when the log cannot
    replay them)."""

    log: EventLog
    kept: list[bytes]


def secret_hash(secret: str) -> str:
    """What the store keeps of a resume secret. The secret is 192 random bits, so one SHA-256
    is enough (no password stretching needed): the store never holds anything that resumes."""
    return hashlib.sha256(secret.encode()).hexdigest()


def seeded_log(bounds: LogBounds, entries: Iterable[tuple[int, bytes]], top: int) -> EventLog:
    """A log holding an adopted session's kept messages (contiguous, oldest first) and
    numbering on after `top`, the last seq the session ever had."""
    return seed(EventLog(bounds.entries, bounds.bytes), entries, top)


def seed(log: L, entries: Iterable[tuple[int, bytes]], top: int) -> L:
    kept = contiguous_tail(list(entries), top)
    log.last_seq = kept[0][0] - 1 if kept else top
    for seq, data in kept:
        EventLog.append(log, seq, data)  # the plain append: these are stored already
    return log


def contiguous_tail(entries: list[tuple[int, bytes]], top: int) -> list[tuple[int, bytes]]:
    """The entries that end at `top` without a gap (a lost write leaves a hole: what lies
    before it cannot be replayed in order, so a resume from there gets a `resync`)."""
    if not entries or entries[-1][0] != top:
        return []
    start = len(entries) - 1
    while start > 0 and entries[start - 1][0] == entries[start][0] - 1:
        start -= 1
    return entries[start:]


class SharedState(Protocol):
    """One instance's view of the sessions all instances share."""

    def create(self, session_id: str, secret: str, person: Person, bounds: LogBounds) -> EventLog:
        """Record a new session of this instance; its log."""
        ...

    async def adopt(
        self,
        session_id: str,
        secret: str,
        caller: Person,
        last_seq: int,
        bounds: LogBounds,
        resumes: Resumes,
    ) -> Adopted | None:
        """Take over a session another instance held, if `secret` is its secret and `caller`
        may resume it: from now on this instance owns it (the old owner's writes are
        refused). Its log holds what the store kept. None: no such session for this caller.
        Raises AdoptLimited when the session moved too often (it stays where it was)."""
        ...

    async def owns(self, session_id: str) -> bool:
        """Whether this instance still owns a session it holds (False: another instance
        adopted it since; this one's copy is stale). A session the store lost is its own."""
        ...

    def attached(self, session_id: str) -> None:
        """A socket holds the session: keep it while it is in use."""
        ...

    def detached(self, session_id: str, grace: float) -> None:
        """No socket holds it: keep it `grace` seconds for a resume, on any instance."""
        ...

    def closed(self, session_id: str) -> None:
        """The session ended here: forget it, unless another instance owns it by now."""
        ...

    def hand_over(self, grace: float) -> None:
        """Shutdown: from now on a closed session is kept `grace` seconds, not forgotten,
        so that its client resumes on another instance."""
        ...

    def on_fenced(self, hook: FencedHook) -> None:
        """Call `hook(session_id)` when another instance took over a session of this one."""
        ...

    def counters(self) -> dict[str, int]:
        """What the back end did so far, by the names `STATE_COUNTERS` explains (/metrics)."""
        ...

    async def flush(self) -> None:
        """Wait until the writes queued so far are in the store."""
        ...

    async def aclose(self) -> None:
        """Write what is queued, then let go of the store."""
        ...
