"""An instance's health: the `BackendState` lifecycle, its legal transitions, and the
classification of a failed check or failed piece of work into a state.

Pure apart from an asyncio.Event that wakes whoever waits for a change (the generation stage
watching for its instance to go down, runs waiting for a start). States go onto the wire in
`backend` events, so the values are the protocol's `BackendState`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from server.engine.errors import (
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
    InvalidState,
    ModelNotFound,
)
from server.protocol import BackendKind, BackendState

_ANY_BUT_UNKNOWN = frozenset(BackendState) - {BackendState.UNKNOWN}

#: Which state may follow which. Nothing returns to UNKNOWN; a healthy instance is not
#: "starting" (nobody launches a server that answers).
ALLOWED: dict[BackendState, frozenset[BackendState]] = {
    BackendState.UNKNOWN: _ANY_BUT_UNKNOWN,
    BackendState.STARTING: frozenset({BackendState.HEALTHY, BackendState.DOWN}),
    BackendState.HEALTHY: frozenset({BackendState.UNHEALTHY, BackendState.DOWN}),
    BackendState.UNHEALTHY: _ANY_BUT_UNKNOWN - {BackendState.UNHEALTHY},
    BackendState.DOWN: _ANY_BUT_UNKNOWN - {BackendState.DOWN},
}


@dataclass(frozen=True, slots=True)
class HealthChange:
    """One state change of one instance, as published to listeners."""

    kind: BackendKind
    instance: str
    state: BackendState
    message: str | None
    eta: float | None
    #: What kind of failure caused the change (None for starts and recoveries): `backend`
    #: events tell students this, never the technical message.
    cause: type[BaseException] | None = None


def state_after_failure(exc: BaseException) -> BackendState:
    """What a failed check or a failed stream says about the instance.

    Unreachable (refused, reset, lost mid-stream) is DOWN; anything else that went wrong is
    UNHEALTHY: it answers, but not usefully.
    """
    if isinstance(exc, BackendUnavailable):
        return BackendState.DOWN
    return BackendState.UNHEALTHY


def alive_by_work(since_delivery: float | None, window: float) -> bool:
    """Does recent work vouch for an instance whose check was only slow? Yes when it
    delivered a token within `window` seconds: it is busy, not hung."""
    return since_delivery is not None and since_delivery <= window


def instance_fault(exc: BackendError) -> bool:
    """Does the failure count against the instance (its breaker)? A missing model or a
    rejected request is the request's problem, not the instance's."""
    return not isinstance(exc, ModelNotFound | BackendRejected)


def worth_retrying(exc: BackendError) -> bool:
    """May the same work succeed on another instance? Crashes, lost connections, cut
    streams, lost prompts, 5xx and busy answers: yes. Rejected requests, missing models and
    errors that say so themselves (`retryable = False` subclasses): no. A bare BackendError
    is an error the server reported in the middle of a stream (Ollama: its runner died)."""
    if not instance_fault(exc):
        return False
    return exc.retryable or isinstance(exc, BackendProtocolError) or type(exc) is BackendError


class InstanceHealth:
    """The health of one instance; `move` validates and reports each real change."""

    def __init__(
        self,
        kind: BackendKind,
        instance: str,
        on_change: Callable[[HealthChange], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kind = kind
        self.instance = instance
        self.state = BackendState.UNKNOWN
        self.message: str | None = None
        self.eta: float | None = None
        self.cause: type[BaseException] | None = None
        self.since = clock()
        self.changes = 0
        #: How often each state was entered (the load harness reports these).
        self.entered: Counter[BackendState] = Counter()
        self._clock = clock
        self._on_change = on_change
        self._changed = asyncio.Event()

    @property
    def healthy(self) -> bool:
        return self.state is BackendState.HEALTHY

    def move(
        self,
        state: BackendState,
        message: str | None = None,
        *,
        eta: float | None = None,
        cause: type[BaseException] | None = None,
    ) -> bool:
        """Enter `state`; False (and no event) when already there. Illegal moves raise."""
        if state is self.state:
            return False
        if state not in ALLOWED[self.state]:
            raise InvalidState(
                f"{self.kind} {self.instance}: cannot go from {self.state} to {state}"
            )
        self.state, self.message, self.eta, self.cause = state, message, eta, cause
        self.since = self._clock()
        self.changes += 1
        self.entered[state] += 1
        self._changed.set()
        self._changed = asyncio.Event()
        if self._on_change is not None:
            self._on_change(self.change())
        return True

    def change(self) -> HealthChange:
        return HealthChange(
            self.kind, self.instance, self.state, self.message, self.eta, self.cause
        )

    async def changed(self) -> None:
        """Return at the next state change."""
        await self._changed.wait()

    async def until_down(self) -> None:
        """Return once the instance is marked down (a crash, not a slow answer)."""
        while self.state is not BackendState.DOWN:
            await self.changed()
