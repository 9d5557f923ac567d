"""The registry of live sessions: create, resume (secret checked in constant time), expire.

A detached session is closed after `resume_grace` seconds without a reconnect; closing runs
the session's cleanup hooks (later layers attach: cancel runs, release slots). Sessions are
bounded per person and per client address (`session_table.py`) as well as in all.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from server.engine.connection import Connection
from server.engine.errors import AtelierError
from server.engine.eventlog import DEFAULT_LOG_BYTES, DEFAULT_REPLAY_BYTES, EventLog
from server.engine.people.identity import Identity
from server.engine.people.per_address import fair_group, run_owner
from server.engine.ratelimit import TokenBucket
from server.engine.session import Session, SessionState, WelcomeInfo
from server.engine.session_table import Group, SessionBounds, SessionTable, TooManySessions
from server.engine.state import EmbeddedState, LogBounds, Person, SharedState
from server.engine.stats import SocketStats
from server.protocol import CloseCode, ErrorCode

log = structlog.get_logger(__name__)


class ServerFull(AtelierError):
    code = ErrorCode.UNAVAILABLE


class ResumeLimited(AtelierError):
    """A session resumed more often than its resume rate allows: each resume can replay up to
    `max_replay_bytes`, so resumes on demand would turn a small `hello` into megabytes."""

    code = ErrorCode.RESUME_LIMITED

    def __init__(self, retry_after: float) -> None:
        super().__init__("this session reconnected too often; try again shortly")
        self.retry_after = retry_after


#: Seconds a revocation is remembered for sockets that have not said `hello` yet: longer than
#: the longest `hello_timeout` a setting allows (120 s).
REVOKED_MEMORY = 300.0

#: Resumes of one session per minute after its burst, and the burst (settings' defaults).
DEFAULT_RESUMES_PER_MINUTE = 12.0
DEFAULT_RESUME_BURST = 6


@dataclass(frozen=True, slots=True)
class ReplayLimits:
    """What one session's resumes may cost: bytes per replay, resumes per minute and burst.
    The defaults are the settings' defaults (`server/settings/` reads them from here)."""

    max_replay_bytes: int = DEFAULT_REPLAY_BYTES
    resumes_per_minute: float = DEFAULT_RESUMES_PER_MINUTE
    resume_burst: int = DEFAULT_RESUME_BURST

    def bucket(self, now: float) -> TokenBucket:
        return TokenBucket(self.resumes_per_minute / 60, self.resume_burst, now)

    @property
    def retry_after(self) -> float:
        """Seconds until a refused session has a resume again, at most."""
        return round(60 / self.resumes_per_minute, 1)


@dataclass(frozen=True, slots=True)
class SessionConfig:
    max_sessions: int
    resume_grace: float
    event_log_limit: int
    event_log_bytes: int = DEFAULT_LOG_BYTES
    replay: ReplayLimits = ReplayLimits()
    bounds: SessionBounds = field(default_factory=SessionBounds)


class SessionRegistry:
    def __init__(
        self,
        config: SessionConfig,
        info: WelcomeInfo,
        stats: SocketStats,
        state: SharedState | None = None,
    ) -> None:
        self.config = config
        self.info = info
        self.stats = stats
        self._sessions: dict[str, Session] = {}
        self._table = SessionTable(config.bounds)
        self._closing: set[asyncio.Task[None]] = set()
        #: Identities revoked lately, with when: a socket upgraded before its identity was
        #: revoked has no session yet, so it is refused at its `hello` (`revoked_since`).
        self._revoked: dict[str, float] = {}
        self.new_session_hooks: list[Callable[[Session], None]] = []
        #: What instances share of sessions (`server/engine/state/`); in-process by default.
        self.state: SharedState = EmbeddedState() if state is None else state
        self.state.on_fenced(self.taken_elsewhere)
        self.log_bounds = LogBounds(config.event_log_limit, config.event_log_bytes)

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def counts(self) -> dict[SessionState, int]:
        counted = Counter(s.state for s in self._sessions.values())
        return {state: counted.get(state, 0) for state in SessionState}

    def open(
        self,
        connection: Connection,
        session_id: str | None,
        secret: str | None,
        last_seq: int,
        identity: Identity,
        address: str | None = None,
    ) -> Session:
        """Attach `connection` to the session it asks for, or to a fresh one of `identity`
        from client `address`. A session resumes only for the identity that created it."""
        session = self._resumable(session_id, secret)
        if session is not None and not Person.of(session.identity).may_resume(Person.of(identity)):
            log.warning("resume_refused", session=session.id, why="another identity")
            session = None
        if session is None:
            if session_id is not None:
                self.stats.resume_failures += 1
            session = self._create(identity, address)
            session.attach(connection, None, self.info)
            self.state.attached(session.id)
            return session
        self._admit_resume(session)
        self.stats.resumes += 1
        session.replace_connection()
        session.attach(connection, last_seq, self.info)
        self.state.attached(session.id)
        return session

    def _admit_resume(self, session: Session) -> None:
        """Spend one of the session's resumes, or refuse before touching its socket."""
        now = asyncio.get_running_loop().time()
        if session.resumes is None:
            session.resumes = self.config.replay.bucket(now)
        if not session.resumes.take(now):
            log.warning("resume_refused", session=session.id, why="rate")
            raise ResumeLimited(self.config.replay.retry_after)

    def _resumable(self, session_id: str | None, secret: str | None) -> Session | None:
        if session_id is None or secret is None:
            return None
        session = self._sessions.get(session_id)
        if session is None or session.state is SessionState.CLOSED:
            return None
        if not hmac.compare_digest(session.secret.encode(), secret.encode()):
            log.warning("resume_refused", session=session_id, why="wrong secret")
            return None
        return session

    def _create(self, identity: Identity, address: str | None) -> Session:
        groups = self._table.groups(identity, address)
        self._make_room(groups, address)
        if len(self._sessions) >= self.config.max_sessions:
            raise ServerFull("the server holds its maximum number of sessions")
        session_id, secret = secrets.token_urlsafe(12), secrets.token_urlsafe(24)  # 192 bits
        event_log = self.state.create(session_id, secret, Person.of(identity), self.log_bounds)
        return self.admit(session_id, secret, event_log, identity, address, groups)

    def admit(
        self,
        session_id: str,
        secret: str,
        event_log: EventLog,
        identity: Identity,
        address: str | None,
        groups: tuple[Group, ...] | None = None,
    ) -> Session:
        """Hold a session here: a new one, or one adopted from another instance (a resume:
        counted in its groups, never refused for their bounds)."""
        session = Session(
            session_id,
            secret,
            log_limit=self.config.event_log_limit,
            log_bytes=self.config.event_log_bytes,
            replay_bytes=self.config.replay.max_replay_bytes,
            stats=self.stats,
            identity=identity,
            run_owner=run_owner(identity, address),
            fair_group=fair_group(identity, address),
            event_log=event_log,
        )
        self._sessions[session_id] = session
        self._table.add(session, groups or self._table.groups(identity, address))
        self.stats.sessions_created += 1
        for hook in self.new_session_hooks:
            hook(session)
        log.info("session_created", session=session_id)
        return session

    def _make_room(self, groups: tuple[Group, ...], address: str | None) -> None:
        """Close the person's (or address's) oldest detached sessions a new one displaces."""
        try:
            displaced = self._table.make_room(groups)
        except TooManySessions:
            self.stats.sessions_refused += 1
            # The address is logged only here, for abuse (cut and rate-limited by the log guards).
            log.warning("sessions_refused", client=address, why="all attached")
            raise
        for session in displaced:
            self.stats.sessions_displaced += 1
            log.info("session_displaced", session=session.id)
            self._close_later(session, CloseCode.NORMAL)

    def sessions_of(self, key: str) -> list[Session]:
        """The live sessions of the identity with owner key `key`, oldest first."""
        return self._table.of_person(key)

    def held_at(self, address: str) -> int:
        """Sessions of clients that have not joined, counted for client `address`."""
        return len(self._table.at_address(address))

    def close_identity(self, key: str, code: CloseCode) -> int:
        """Close every session of one identity (removed from its class, class deleted): their
        sockets get `code` now, their cleanup hooks run in the background; how many."""
        self._remember_revoked(key)
        sessions = self._table.of_person(key)
        for session in sessions:
            self._close_later(session, code)
        if sessions:
            log.info("identity_sessions_closed", sessions=len(sessions), code=int(code))
        return len(sessions)

    def _remember_revoked(self, key: str) -> None:
        now = asyncio.get_running_loop().time()
        for old in [k for k, at in self._revoked.items() if now - at > REVOKED_MEMORY]:
            del self._revoked[old]
        self._revoked[key] = now

    def revoked_since(self, key: str, since: float) -> bool:
        """Whether `key` was revoked at or after `since` (the event loop's clock)."""
        revoked = self._revoked.get(key)
        return revoked is not None and revoked >= since

    def _close_later(self, session: Session, code: CloseCode) -> None:
        """Take `session` off the table now (it no longer counts) and close it in a task."""
        self._forget(session)
        task = asyncio.create_task(self.close(session, code))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _forget(self, session: Session) -> None:
        if self._sessions.pop(session.id, None) is not None:
            self._table.remove(session)
            self.state.closed(session.id)

    def taken_elsewhere(self, session_id: str) -> None:
        """Another instance resumed this session: its socket and runs here end."""
        if (session := self._sessions.get(session_id)) is not None:
            self._close_later(session, CloseCode.SESSION_REPLACED)

    def detach(self, session: Session, connection: Connection) -> None:
        """The socket went away: keep the session for `resume_grace` seconds."""
        if not session.detach(connection):
            return
        log.info("session_detached", session=session.id, grace=self.config.resume_grace)
        self.state.detached(session.id, self.config.resume_grace)
        loop = asyncio.get_running_loop()
        session.expiry = loop.call_later(self.config.resume_grace, self._expire, session)

    def _expire(self, session: Session) -> None:
        session.expiry = None
        if session.state is not SessionState.DETACHED:
            return
        self.stats.sessions_expired += 1
        log.info("session_expired", session=session.id)
        self._close_later(session, CloseCode.NORMAL)

    async def close(self, session: Session, code: CloseCode = CloseCode.NORMAL) -> None:
        self._forget(session)
        await session.close(code)
        log.info("session_closed", session=session.id)

    async def close_all(self, code: CloseCode = CloseCode.GOING_AWAY) -> None:
        """Shutdown: close every session (sockets get `code`) and run their cleanup hooks;
        a shared store keeps them for `resume_grace`, so their clients resume elsewhere."""
        self.state.hand_over(self.config.resume_grace)
        await asyncio.gather(*(self.close(s, code) for s in list(self._sessions.values())))
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
