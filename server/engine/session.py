"""A browser session: its state machine, numbered event stream, replay log and cleanup hooks.

A session outlives its socket. While detached it keeps numbering and logging events; a
reconnect with the session id, the resume secret and the last seen `seq` gets the missed events
replayed (or a `resync` of snapshots when the log no longer reaches back) and then the live
stream, with no gap and no duplicate: attach, replay and the first live event all happen
without an await in between, so nothing can slip in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

import structlog

from server.engine.connection import Connection
from server.engine.errors import InvalidState
from server.engine.eventlog import DEFAULT_LOG_BYTES, DEFAULT_REPLAY_BYTES, EventLog
from server.engine.people.identity import ClassRules, Identity, lower_bound
from server.engine.ratelimit import TokenBucket
from server.engine.stats import SocketStats
from server.protocol import (
    AccessMode,
    CloseCode,
    Heartbeat,
    Limits,
    Resync,
    RunSnapshot,
    ServerEvent,
    Welcome,
    You,
    encode_event,
)

log = structlog.get_logger(__name__)

CloseHook = Callable[["Session"], Awaitable[None]]
SnapshotProvider = Callable[[], list[RunSnapshot]]


class SessionState(StrEnum):
    ATTACHED = "attached"
    DETACHED = "detached"
    CLOSED = "closed"


_ALLOWED: dict[SessionState, frozenset[SessionState]] = {
    SessionState.ATTACHED: frozenset({SessionState.DETACHED, SessionState.CLOSED}),
    SessionState.DETACHED: frozenset({SessionState.ATTACHED, SessionState.CLOSED}),
    SessionState.CLOSED: frozenset(),
}


def check_transition(current: SessionState, new: SessionState) -> None:
    if new not in _ALLOWED[current]:
        raise InvalidState(f"session cannot go from {current} to {new}")


class WelcomeInfo:
    """What every `welcome` says besides the session's own id and secret."""

    __slots__ = ("access", "demo", "heartbeat_interval", "limits")

    def __init__(
        self,
        limits: Limits,
        heartbeat_interval: float,
        demo: bool,
        access: AccessMode = AccessMode.OPEN,
    ) -> None:
        self.limits = limits
        self.heartbeat_interval = heartbeat_interval
        self.demo = demo
        self.access = access


def you_of(identity: Identity) -> You:
    """What `welcome` tells a socket about its own person: never the owner key."""
    return You(role=identity.role, nickname=identity.nickname, class_name=identity.class_name)


def limits_for(limits: Limits, rules: ClassRules | None) -> Limits:
    """The limits a person's `welcome` shows: the operator's, lowered by their class's rules
    (`Pipeline` enforces the same lower bound, and refuses edited instructions, at run start)."""
    if rules is None:
        return limits
    lowered = lower_bound(limits.max_runs_in_flight, rules.max_runs_in_flight)
    editable = rules.edit_instructions is not False
    return limits.model_copy(update={"max_runs_in_flight": lowered, "edit_instructions": editable})


class Session:
    """One browser session. It starts detached; `SessionRegistry.open` attaches the socket
    that created it at once."""

    def __init__(
        self,
        session_id: str,
        secret: str,
        *,
        log_limit: int,
        stats: SocketStats,
        identity: Identity,
        log_bytes: int = DEFAULT_LOG_BYTES,
        replay_bytes: int = DEFAULT_REPLAY_BYTES,
        run_owner: str | None = None,
        fair_group: str | None = None,
        event_log: EventLog | None = None,
    ) -> None:
        self.id = session_id
        self.secret = secret
        #: Whose session this is: fixed at creation, never taken from a client message.
        self.identity = identity
        #: Whom its runs count for in the scheduler (`per_address.run_owner`): the identity's
        #: key, or for a cookie-less session its client address's (hashed) key.
        self.run_owner = run_owner or identity.key
        #: Whom its runs count for in the fair order (`per_address.fair_group`): a guest's
        #: client address, anyone else their run owner.
        self.fair_group = fair_group or self.run_owner
        self.state = SessionState.DETACHED
        #: The state back end's log (`server/engine/state/`), or an in-process one.
        self.log = EventLog(log_limit, log_bytes) if event_log is None else event_log
        self.replay_bytes = replay_bytes
        #: Resumes left to this session; the registry creates it at the first resume.
        self.resumes: TokenBucket | None = None
        self.connection: Connection | None = None
        self.snapshot: SnapshotProvider = list
        self._close_hooks: list[CloseHook] = []
        self._stats = stats
        self.expiry: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:  # never show the secret
        return f"<Session {self.id} {self.state}>"

    # -- events

    @property
    def seq(self) -> int:
        return self.log.last_seq

    def emit(self, message_type: type[ServerEvent], **fields: Any) -> int:
        """Number, log and (when attached) send one server message; returns its seq."""
        if self.state is SessionState.CLOSED:
            return self.seq
        seq = self.log.last_seq + 1
        data = encode_event(message_type, seq, fields)
        self.log.append(seq, data)
        if self.connection is not None:
            self.connection.push(data)
        return seq

    def heartbeat(self) -> None:
        self.emit(Heartbeat, time=time.time())

    # -- attach / detach

    def attach(self, connection: Connection, last_seq: int | None, info: WelcomeInfo) -> None:
        """Bind a socket: replay or resync what it missed, then `welcome`, then live events."""
        check_transition(self.state, SessionState.ATTACHED)
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        self.state = SessionState.ATTACHED
        self.connection = connection
        if last_seq is not None:
            self._catch_up(connection, last_seq)
        self.emit(
            Welcome,
            session=self.id,
            secret=self.secret,
            resumed=last_seq is not None,
            limits=limits_for(info.limits, self.identity.rules),
            heartbeat_interval=info.heartbeat_interval,
            demo=info.demo,
            you=you_of(self.identity),
            access=info.access,
        )

    def _catch_up(self, connection: Connection, last_seq: int) -> None:
        missed = self.log.since(last_seq, self.replay_bytes)
        if missed is None:
            self._stats.resyncs += 1
            self.emit(Resync, runs=self.snapshot())
        else:
            self._stats.replayed_events += len(missed)
            connection.push_replay(missed)

    def detach(self, connection: Connection) -> bool:
        """Unbind `connection` if it is still the current one; True if the session detached."""
        if self.connection is not connection or self.state is not SessionState.ATTACHED:
            return False
        check_transition(self.state, SessionState.DETACHED)
        self.state = SessionState.DETACHED
        self.connection = None
        return True

    def replace_connection(self) -> None:
        """Another socket is resuming this session: close the current one first."""
        if self.connection is not None:
            old = self.connection
            self.detach(old)
            old.close(CloseCode.SESSION_REPLACED, "session resumed elsewhere")

    # -- closing

    def on_close(self, hook: CloseHook) -> None:
        """Run `hook(session)` when the session closes (grace expiry, shutdown)."""
        self._close_hooks.append(hook)

    async def close(self, code: CloseCode = CloseCode.NORMAL, reason: str = "") -> None:
        if self.state is SessionState.CLOSED:
            return
        check_transition(self.state, SessionState.CLOSED)
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        if self.connection is not None:
            self.connection.close(code, reason or "session closed")
            self.connection = None
        self.state = SessionState.CLOSED
        for hook in self._close_hooks:
            try:
                await hook(self)
            except Exception:
                log.exception("session_close_hook_failed", session=self.id)
        self._close_hooks.clear()
