"""A run's handle on the scheduler: `RunTicket`, its phases, and `_Lease`, one slot request.

The ticket only holds the run's state; `Scheduler` does the bookkeeping, so every change to
the lines goes through one place.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

import structlog

from server.engine.eta import Job
from server.engine.queueing import QueueInfo, RunPriority, WaitKey
from server.engine.scheduler_settings import RunClosed

if TYPE_CHECKING:
    from server.engine.scheduler import Scheduler
    from server.engine.scheduler_lines import _Pool

log = structlog.get_logger(__name__)

QueueCallback = Callable[[QueueInfo], None]


class RunPhase(enum.StrEnum):
    QUEUED = "queued"  # waiting for one of its session's in-flight places
    ACTIVE = "active"  # may take slots
    CLOSED = "closed"


_NEXT_PHASES = {
    RunPhase.QUEUED: frozenset({RunPhase.ACTIVE, RunPhase.CLOSED}),
    RunPhase.ACTIVE: frozenset({RunPhase.CLOSED}),
    RunPhase.CLOSED: frozenset[RunPhase](),
}


class RunTicket:
    """One admitted run's handle: wait for a start, take slots, close."""

    def __init__(
        self,
        scheduler: Scheduler,
        run_id: str,
        session_id: str,
        seq: int,
        on_queue: QueueCallback | None,
    ) -> None:
        self.run_id = run_id
        self.session_id = session_id
        self.seq = seq
        self.phase = RunPhase.QUEUED
        self.priority: RunPriority | None = None
        self._scheduler = scheduler
        self._on_queue = on_queue
        self._started = asyncio.Event()
        self._waiting: set[_Lease] = set()
        self._last_info: QueueInfo | None = None
        self._jobs: list[Job] = []  # finished normally, in order: what its rests are made of

    async def started(self) -> None:
        """Return once the run has an in-flight place; RunClosed if it was closed instead."""
        await self._started.wait()
        if self.phase is RunPhase.CLOSED:
            raise RunClosed(f"run {self.run_id} is closed")

    @asynccontextmanager
    async def slot(self, pool: str, stage: str) -> AsyncIterator[None]:
        """Hold one slot of `pool` for `stage`; released on every way out of the block."""
        lease = await self._scheduler._acquire(self, pool, stage)
        outcome = "error"
        try:
            yield
            outcome = "ok"
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            self._scheduler._release(lease, outcome)

    def close(self, *, cancelled: bool = False) -> None:
        """The run ended: free its session place (starting the next run). Idempotent.

        A cancelled run's jobs say nothing about how much pool time a run goes on to need."""
        self._scheduler._close(self, cancelled=cancelled)

    async def __aenter__(self) -> RunTicket:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(cancelled=isinstance(exc, asyncio.CancelledError))

    def _advance(self, phase: RunPhase) -> None:
        if phase not in _NEXT_PHASES[self.phase]:
            raise RuntimeError(f"run {self.run_id}: illegal transition {self.phase} -> {phase}")
        self.phase = phase

    def _notify(self, info: QueueInfo) -> None:
        if self._on_queue is None:
            return
        try:
            self._on_queue(info)
        except Exception:
            log.exception("queue_callback_failed", run=self.run_id)


@dataclass(eq=False, slots=True)
class _Lease:
    """One slot request; waits in the pool's line, then holds the slot."""

    run: RunTicket
    pool: _Pool
    stage: str
    key: WaitKey
    future: asyncio.Future[None]
    queued_at: float
    granted_at: float = 0.0
    last_info: QueueInfo | None = None  # what the run was last told about this request
    told_at: float = 0.0  # when (the scheduler's clock): the page counts the ETA down from it
