"""`ReadWatchdog`: the one timer that bounds every read of an LLM stream (first token, idle).

Pure apart from the loop's clock and `call_at`, so it is tested on a fake loop.
"""

from __future__ import annotations

import asyncio


class ReadWatchdog:
    """One timer per stream bounding each read, instead of an `asyncio.timeout()` per read.

    A relay reads once per token; creating and cancelling a timer around every read cost
    about as much as decoding the token (docs/performance.md). Here each read only records
    its deadline; the single timer fires at the earliest deadline it was armed for, re-arms
    itself while reads keep coming, and cancels the reading task only when the read in
    progress has passed its own deadline. `expired` tells that cancellation apart from any
    other, exactly as `asyncio.timeout` does (via `Task.uncancel`).
    """

    __slots__ = ("_cancelling", "_deadline", "_fired", "_loop", "_task", "_timer", "_timer_at")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._task: asyncio.Task[object] | None = None
        self._deadline = 0.0
        self._cancelling = 0
        self._fired = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def start(self, task: asyncio.Task[object], timeout: float) -> None:
        """A read begins in `task`; it may last `timeout` seconds."""
        deadline = self._loop.time() + timeout
        self._task, self._deadline, self._fired = task, deadline, False
        self._cancelling = task.cancelling()
        if self._timer is None or deadline < self._timer_at:
            self._arm(deadline)

    def stop(self) -> None:
        """The read ended (either way); the timer stays armed for the next one."""
        self._task = None

    def expired(self, task: asyncio.Task[object]) -> bool:
        """For a read that ended in CancelledError: True when the cancellation was ours alone
        (the caller then raises its timeout error instead)."""
        if not self._fired:
            return False
        self._fired = False
        return task.uncancel() <= self._cancelling

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._task = None

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = self._loop.call_at(when, self._due), when

    def _due(self) -> None:
        self._timer = None
        task = self._task
        if task is None:
            return  # no read in progress; the next one arms the timer again
        if self._loop.time() < self._deadline:
            self._arm(self._deadline)
            return
        self._fired = True
        task.cancel()
