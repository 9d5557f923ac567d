"""`backend` events for the sessions that have runs waiting on a kind of backend.

A stage registers its run's session for the kind it needs (`watch`) while it acquires an
instance, waits for a slot and does the work. Each state change of an instance of that kind
then reaches those sessions once each, however many of their runs wait. A session that starts
waiting while an instance is already starting is told so at once, with the time left. A session
told of trouble also hears when that instance serves again, even if its run has ended by then:
otherwise its page would show the trouble until the session ends.

Students read a `reason` (`backend_reason`), never the change's message: that is the backend's
own error text, with addresses, ports and log paths, for the log and `/api/status` only.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from server.engine.backends.health import HealthChange
from server.engine.backends.launcher import StartFailed
from server.engine.errors import BackendBusy, BackendPaused, BackendTimeout, BackendUnavailable
from server.engine.session import Session, SessionState
from server.protocol import Backend, BackendKind, BackendReason, BackendState

#: The reason a failure class gives; the first match wins (StartFailed is a BackendUnavailable).
_CAUSES: tuple[tuple[type[BaseException], BackendReason], ...] = (
    (StartFailed, BackendReason.START_FAILED),
    (BackendPaused, BackendReason.PAUSED),
    (BackendTimeout, BackendReason.NO_ANSWER),
    (BackendBusy, BackendReason.NO_ANSWER),
    (BackendUnavailable, BackendReason.UNREACHABLE),
)
#: A change without a known cause says what its state says.
_BY_STATE: dict[BackendState, BackendReason | None] = {
    BackendState.UNKNOWN: None,
    BackendState.HEALTHY: None,
    BackendState.STARTING: BackendReason.STARTING,
    BackendState.UNHEALTHY: BackendReason.ERROR,
    BackendState.DOWN: BackendReason.UNREACHABLE,
}


def backend_reason(change: HealthChange) -> BackendReason | None:
    """Why the instance is not serving, for students; None when it serves (or is unknown)."""
    reason = _BY_STATE[change.state]
    if reason is None or reason is BackendReason.STARTING or change.cause is None:
        return reason
    return next(
        (why for cause, why in _CAUSES if issubclass(change.cause, cause)), BackendReason.ERROR
    )


#: Sessions told of one instance's trouble before the ended ones among them are dropped.
_PRUNE_TOLD_AT = 1024


@dataclass(frozen=True, slots=True)
class _Seen:
    change: HealthChange
    at: float


class WaitingSessions:
    """Which sessions wait on which kind of backend, and the last state of each instance."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sessions: dict[BackendKind, dict[str, Session]] = {}
        self._counts: dict[BackendKind, Counter[str]] = {}
        self._last: dict[tuple[BackendKind, str], _Seen] = {}
        #: Per instance, the sessions told it is not serving, until it serves again.
        self._told: dict[tuple[BackendKind, str], dict[str, Session]] = {}
        self.sent = 0

    @contextmanager
    def watch(self, kind: BackendKind, session: Session) -> Iterator[None]:
        sessions = self._sessions.setdefault(kind, {})
        counts = self._counts.setdefault(kind, Counter())
        if counts[session.id] == 0:
            sessions[session.id] = session
            self._catch_up(kind, session)
        counts[session.id] += 1
        try:
            yield
        finally:
            counts[session.id] -= 1
            if counts[session.id] == 0:
                del counts[session.id]
                sessions.pop(session.id, None)

    def waiting(self, kind: BackendKind) -> int:
        """Sessions waiting on `kind` now."""
        return len(self._sessions.get(kind, {}))

    def publish(self, change: HealthChange) -> None:
        """The listener for `Backends.subscribe`."""
        key = (change.kind, change.instance)
        self._last[key] = _Seen(change, self._clock())
        recipients = dict(self._sessions.get(change.kind, {}))
        if change.state is BackendState.HEALTHY:
            recipients.update(self._told.pop(key, {}))
        for session in recipients.values():
            self._send(session, change, change.eta)

    def _catch_up(self, kind: BackendKind, session: Session) -> None:
        for (seen_kind, _), seen in self._last.items():
            if seen_kind == kind and seen.change.state is BackendState.STARTING:
                eta = seen.change.eta
                left = None if eta is None else max(0.0, round(eta - (self._clock() - seen.at), 1))
                self._send(session, seen.change, left)

    def _send(self, session: Session, change: HealthChange, eta: float | None) -> None:
        self.sent += 1
        if change.state is not BackendState.HEALTHY:
            told = self._told.setdefault((change.kind, change.instance), {})
            told[session.id] = session
            if len(told) > _PRUNE_TOLD_AT:  # a long outage: forget sessions that have ended
                for gone in [k for k, s in told.items() if s.state is SessionState.CLOSED]:
                    del told[gone]
        session.emit(
            Backend,
            kind=change.kind,
            instance=change.instance,
            state=change.state,
            eta=eta,
            reason=backend_reason(change),
        )
