"""`ReadWatchdog`: one timer per stream bounds every read, on a fake clock (no event loop)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.engine.llm.watchdog import ReadWatchdog


class FakeTimer:
    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when, self.callback, self.cancelled = when, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """`time` and `call_at`, with a clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[FakeTimer] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(when, callback)
        self.timers.append(timer)
        return timer

    def armed(self) -> list[FakeTimer]:
        return [t for t in self.timers if not t.cancelled]

    def advance(self, seconds: float) -> None:
        self.now += seconds
        while due := [t for t in self.armed() if t.when <= self.now]:
            for timer in due:
                timer.cancelled = True  # fired
                timer.callback()


class FakeTask:
    """Counts cancellation requests like asyncio.Task does."""

    def __init__(self) -> None:
        self.requests = 0

    def cancel(self) -> bool:
        self.requests += 1
        return True

    def cancelling(self) -> int:
        return self.requests

    def uncancel(self) -> int:
        self.requests -= 1
        return self.requests


def watchdog() -> tuple[ReadWatchdog, FakeLoop, Any]:
    loop = FakeLoop()
    return ReadWatchdog(loop), loop, FakeTask()  # type: ignore[arg-type]


def test_a_read_past_its_deadline_cancels_the_task_and_counts_as_expired() -> None:
    dog, loop, task = watchdog()
    dog.start(task, 1.0)
    loop.advance(0.99)
    assert task.requests == 0
    loop.advance(0.02)
    assert task.requests == 1
    assert dog.expired(task)
    assert task.requests == 0  # our own cancellation was withdrawn


def test_reads_that_each_end_in_time_are_never_cancelled_however_long_the_stream() -> None:
    dog, loop, task = watchdog()
    for _ in range(50):
        dog.start(task, 1.0)
        loop.advance(0.6)  # each read within its bound; together far beyond it
        dog.stop()
    assert task.requests == 0
    assert len(loop.armed()) == 1  # one timer, re-armed lazily, not one per read


def test_the_timer_firing_between_reads_cancels_nothing() -> None:
    dog, loop, task = watchdog()
    dog.start(task, 1.0)
    dog.stop()
    loop.advance(5.0)
    assert task.requests == 0
    dog.start(task, 1.0)  # the next read arms it again
    loop.advance(1.01)
    assert task.requests == 1


def test_a_shorter_bound_after_a_longer_one_rearms_earlier() -> None:
    dog, loop, task = watchdog()
    dog.start(task, 60.0)  # first token: long
    loop.advance(1.0)
    dog.stop()
    dog.start(task, 2.0)  # idle: short, due before the first timer
    loop.advance(2.01)
    assert task.requests == 1


def test_someone_elses_cancellation_is_not_taken_for_a_timeout() -> None:
    dog, _, task = watchdog()
    dog.start(task, 1.0)
    task.cancel()  # the run was cancelled
    assert not dog.expired(task)
    assert task.requests == 1


def test_both_cancellations_at_once_leave_the_outer_one_standing() -> None:
    dog, loop, task = watchdog()
    dog.start(task, 1.0)
    task.cancel()  # the run was cancelled ...
    loop.advance(1.01)  # ... and the read timed out in the same loop iteration
    assert not dog.expired(task)  # the cancellation must propagate, not become a timeout
    assert task.requests == 1


def test_close_cancels_the_timer() -> None:
    dog, loop, task = watchdog()
    dog.start(task, 1.0)
    dog.close()
    assert loop.armed() == []
    loop.advance(2.0)
    assert task.requests == 0
