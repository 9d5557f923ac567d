"""A run's handle on the scheduler: `RunTicket`, its phases, and `Lease`, one slot request.

The ticket holds the run's state and has two sides. The pipeline uses `started`, `slot` and
`close`. The scheduler, which keeps every line, uses the package-internal rest: `activate`
and `end` (its phase changes), `notify` (a `queue` event), and the attributes it keeps up to
date (`priority`, `waiting`, `jobs`, `last_info`). A ticket knows its scheduler only as a
`TicketOwner`, so this module imports nothing of the scheduler's and every change to a line
still goes through one place.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Protocol

import structlog

from server.engine.errors import InvalidState
from server.engine.scheduler._eta import Job
from server.engine.scheduler._queueing import QueueInfo, RunPriority, WaitKey, WaitReason
from server.engine.scheduler._settings import RunClosed
from server.engine.scheduler._whole import RunClock
from server.engine.state.slots import GlobalSlots

log = structlog.get_logger(__name__)

QueueCallback = Callable[[QueueInfo], None]
#: How a slot was given back: only "ok" jobs are service-time samples.
Outcome = Literal["ok", "error", "cancelled"]


class RunPhase(enum.StrEnum):
    QUEUED = "queued"  # waiting for one of its person's in-flight places
    ACTIVE = "active"  # may take slots
    CLOSED = "closed"


_NEXT_PHASES = {
    RunPhase.QUEUED: frozenset({RunPhase.ACTIVE, RunPhase.CLOSED}),
    RunPhase.ACTIVE: frozenset({RunPhase.CLOSED}),
    RunPhase.CLOSED: frozenset[RunPhase](),
}


class TicketOwner(Protocol):
    """What a ticket asks of the scheduler that issued it (`Scheduler` is the one owner)."""

    async def acquire(self, ticket: RunTicket, pool: str, stage: str) -> Lease: ...

    def release(self, lease: Lease, outcome: Outcome) -> None: ...

    def close_run(self, ticket: RunTicket, *, cancelled: bool) -> None: ...

    @property
    def global_slots(self) -> GlobalSlots: ...


class RunTicket:
    """One admitted run's handle: wait for a start, take slots, close."""

    def __init__(
        self,
        owner: TicketOwner,
        run_id: str,
        person: str,
        seq: int,
        on_queue: QueueCallback | None,
        class_id: int | None = None,
        group: str | None = None,
        fair_group: str | None = None,
    ) -> None:
        self.run_id = run_id
        self.person = person  # the owner key its limits count by
        #: Whom its place in the fair order counts for (`FairGroups`): its person by default.
        self.fair_group = fair_group or person
        self.class_id = class_id  # its person's class: its teacher may pause it (`_pause`)
        self.group = group  # its compare: the compare's runs count as one unit (`_compare`)
        self.seq = seq
        self.phase = RunPhase.QUEUED
        self.priority: RunPriority | None = None  # set by `activate`
        self.waiting: set[Lease] = set()  # its slot requests still in a pool's line
        self.jobs: list[Job] = []  # finished normally, in order: what its rests are made of
        self.clock = RunClock()  # its slots' grant times and what it was told: `_whole`
        self.last_info: QueueInfo | None = None  # last told about its person's line
        self._owner = owner
        self._on_queue = on_queue
        self._started = asyncio.Event()

    async def started(self) -> None:
        """Return once the run has an in-flight place; RunClosed if it was closed instead."""
        await self._started.wait()
        if self.phase is RunPhase.CLOSED:
            raise RunClosed(f"run {self.run_id} is closed")

    @asynccontextmanager
    async def slot(self, pool: str, stage: str) -> AsyncIterator[None]:
        """Hold one slot of `pool` for `stage`; released on every way out of the block."""
        lease = await self._owner.acquire(self, pool, stage)
        outcome: Outcome = "error"
        try:
            # Also one of the pool's slots across instances (`state/slots.py`); while it waits
            # for one, the run is told it is first here, with no ETA (`across`).
            async with self._owner.global_slots.hold(pool, lambda: self.notify(across(lease))):
                yield
            outcome = "ok"
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            self._owner.release(lease, outcome)

    def close(self, *, cancelled: bool = False) -> None:
        """The run ended: free its person's place (starting their next run). Idempotent.

        A cancelled run's jobs say nothing about how much pool time a run goes on to need."""
        self._owner.close_run(self, cancelled=cancelled)

    async def __aenter__(self) -> RunTicket:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.clock.completed = exc_type is None  # every stage done: a whole-run sample
        self.close(cancelled=isinstance(exc, asyncio.CancelledError))

    # -- the scheduler's side

    def activate(self, priority: RunPriority) -> None:
        """The run got an in-flight place: it may take slots, in `priority` order."""
        self._advance(RunPhase.ACTIVE)
        self.priority = priority
        self._started.set()

    def end(self) -> None:
        """The run is closed; whoever waits for its start hears so."""
        self._advance(RunPhase.CLOSED)
        self._started.set()

    def notify(self, info: QueueInfo) -> None:
        """Tell the run's owner where it waits; a failing callback never breaks the lines."""
        if self._on_queue is None:
            return
        try:
            self._on_queue(info)
        except Exception:
            log.exception("queue_callback_failed", run=self.run_id)

    def _advance(self, phase: RunPhase) -> None:
        if phase not in _NEXT_PHASES[self.phase]:
            raise InvalidState(f"run {self.run_id}: illegal transition {self.phase} -> {phase}")
        self.phase = phase


def across(lease: Lease) -> QueueInfo:
    """What a run is told while its job, first in line here, waits for a slot another
    instance holds: its place here, and no ETA (the other instances' jobs are not known)."""
    return QueueInfo(WaitReason.SLOT, lease.pool, lease.stage, 1, 1, None)


@dataclass(eq=False, slots=True)
class Lease:
    """One slot request; waits in the pool's line, then holds the slot."""

    run: RunTicket
    pool: str  # the pool's name: pools know their leases, not the other way round
    stage: str
    key: WaitKey
    future: asyncio.Future[None]
    queued_at: float
    granted_at: float = 0.0
    last_info: QueueInfo | None = None  # what the run was last told about this request
    told_at: float = 0.0  # when (the scheduler's clock): the page counts the ETA down from it
