"""The circuit breaker: open after failures in a row, one trial after the cooldown."""

from __future__ import annotations

from server.engine.backends.breaker import BreakerState, CircuitBreaker
from tests.scheduler_support import FakeClock


def breaker(clock: FakeClock, threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker(threshold=threshold, cooldown=30.0, clock=clock)


def state(cb: CircuitBreaker) -> BreakerState:
    return cb.state  # through a call: mypy would otherwise pin the property's first value


def test_failures_in_a_row_open_it_and_a_success_resets_the_count() -> None:
    cb = breaker(FakeClock())
    assert not cb.failed()
    assert not cb.failed()
    cb.succeeded()
    assert not cb.failed()
    assert not cb.failed()
    assert cb.failed()  # the third in a row
    assert state(cb) is BreakerState.OPEN
    assert not cb.allows()


def test_after_the_cooldown_exactly_one_trial_is_let_through() -> None:
    clock = FakeClock()
    cb = breaker(clock, threshold=1)
    cb.failed()
    clock.advance(29.9)
    assert cb.retry_in() is not None
    assert not cb.allows()
    clock.advance(0.1)
    assert state(cb) is BreakerState.HALF_OPEN
    assert cb.retry_in() is None
    assert cb.allows()
    cb.begin()
    assert not cb.allows()  # the trial is out; nobody else goes there meanwhile
    cb.succeeded()
    assert state(cb) is BreakerState.CLOSED
    assert cb.allows()


def test_a_failed_trial_opens_it_again_for_a_full_cooldown() -> None:
    clock = FakeClock()
    cb = breaker(clock, threshold=2)
    cb.failed()
    cb.failed()
    clock.advance(30)
    cb.begin()
    assert cb.failed()  # one failure is enough while half-open
    assert state(cb) is BreakerState.OPEN
    assert cb.retry_in() == 30.0
    assert cb.opens == 2


def test_an_abandoned_trial_lets_the_next_one_through() -> None:
    clock = FakeClock()
    cb = breaker(clock, threshold=1)
    cb.failed()
    clock.advance(30)
    cb.begin()
    cb.abandoned()  # cancelled: says nothing about the instance
    assert state(cb) is BreakerState.HALF_OPEN
    assert cb.allows()
