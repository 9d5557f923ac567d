"""A circuit breaker per instance: an instance that keeps failing real work stops getting it.

Health checks catch a server that is down; they do not catch one that answers `/api/version`
but fails every generation (out of memory, a broken model file), or one that flaps between up
and down. After `threshold` failures in a row the breaker opens: no work goes there. After
`cooldown` seconds it lets exactly one piece of work through (half-open); success closes it,
failure opens it again. Pure: the clock is injected.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

from server.engine.errors import InvalidState


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


_ALLOWED = {
    BreakerState.CLOSED: frozenset({BreakerState.OPEN}),
    BreakerState.OPEN: frozenset({BreakerState.HALF_OPEN}),
    BreakerState.HALF_OPEN: frozenset({BreakerState.CLOSED, BreakerState.OPEN}),
}


class CircuitBreaker:
    def __init__(
        self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._state = BreakerState.CLOSED
        self.failures = 0  # in a row
        self.opened_at = 0.0
        self.trial_in_flight = False
        self.opens = 0

    @property
    def state(self) -> BreakerState:
        """The state now; an open breaker whose cooldown has passed reads as half-open."""
        if self._state is BreakerState.OPEN and self._clock() >= self.opened_at + self.cooldown:
            self._move(BreakerState.HALF_OPEN)
        return self._state

    def retry_in(self) -> float | None:
        """Seconds until an open breaker lets a trial through (None when not open)."""
        if self.state is not BreakerState.OPEN:
            return None
        return max(0.0, self.opened_at + self.cooldown - self._clock())

    def allows(self) -> bool:
        """May new work be sent? Half-open lets one trial through at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        return state is BreakerState.HALF_OPEN and not self.trial_in_flight

    def begin(self) -> None:
        """Work was sent; while half-open, it is the trial."""
        if self.state is BreakerState.HALF_OPEN:
            self.trial_in_flight = True

    def succeeded(self) -> None:
        self.failures = 0
        self.trial_in_flight = False
        if self.state is BreakerState.HALF_OPEN:
            self._move(BreakerState.CLOSED)

    def failed(self) -> bool:
        """Count a failure; True when it opened the breaker."""
        self.failures += 1
        self.trial_in_flight = False
        state = self.state
        if state is BreakerState.HALF_OPEN or (
            state is BreakerState.CLOSED and self.failures >= self.threshold
        ):
            self._move(BreakerState.OPEN)
            self.opened_at = self._clock()
            self.opens += 1
            return True
        return False

    def abandoned(self) -> None:
        """The work ended without a verdict (cancelled): let another trial through."""
        self.trial_in_flight = False

    def _move(self, new: BreakerState) -> None:
        if new not in _ALLOWED[self._state]:
            raise InvalidState(f"breaker cannot go from {self._state} to {new}")
        self._state = new
