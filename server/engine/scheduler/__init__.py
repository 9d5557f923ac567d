"""The scheduler: a fair queue for scarce GPU slots, with live positions, ETAs, limits, cancel.

Usage by the pipeline (one task per run)::

    ticket = scheduler.admit(run_id, person_key, on_queue=send_queue_event)  # may raise Busy
    async with ticket:                                  # close() on every exit path
        async with ticket.slot(pool="llm-a", stage="interception"):
            ...                                         # cancellation propagates in here

This is the package's one face: the rest of the server imports only the names below. The parts
live in private modules that may use each other's package-internal API (the aiojobs layout):
`_scheduler` (admission, lines, hand-over), `_ticket` (a run's handle and its slot requests),
`_lines` (the lines and their timers), `_updates` (what a waiting run is told), `_pause` (a
class its teacher paused: its requests keep their place but get no slot), `_compare` (compare
runs: one unit of N runs), `_metrics`, `_settings`, and the pure rules `_queueing` and `_eta`,
which never touch an event loop. Limits and fairness count per person (the owner key `admit`
is given), never per session. Their imports form a chain with no cycle: `_scheduler` >
`_pause`, `_updates` > `_lines` > `_compare` > `_ticket` > `_settings` > `_queueing`, `_eta`.
"""

from __future__ import annotations

from server.engine.scheduler._metrics import PoolSnapshot, SchedulerSnapshot
from server.engine.scheduler._queueing import QueueInfo, RunLimits, WaitReason
from server.engine.scheduler._scheduler import Scheduler
from server.engine.scheduler._settings import (
    Busy,
    PoolSettings,
    RunClosed,
    SchedulerSettings,
    TooManyRuns,
    UnknownPool,
)
from server.engine.scheduler._ticket import QueueCallback, RunPhase, RunTicket

__all__ = [
    "Busy",
    "PoolSettings",
    "PoolSnapshot",
    "QueueCallback",
    "QueueInfo",
    "RunClosed",
    "RunLimits",
    "RunPhase",
    "RunTicket",
    "Scheduler",
    "SchedulerSettings",
    "SchedulerSnapshot",
    "TooManyRuns",
    "UnknownPool",
    "WaitReason",
]
