"""`Scheduler`: admission, person lines, pool slots and the hand-over between them.

A run belongs to a person (an owner key: a student across all their sessions) and first takes
one of that person's in-flight places (`RunLimits.in_flight`); the person's other runs wait in
their own line, up to `RunLimits.queued`, and beyond that are refused (`_queueing.admission`).
Each stage then waits for a slot in its pool, ordered by `_queueing.RunPriority`. Releasing a
slot hands it to the next live waiter in the same call, so no wake-up is lost and no slot is
granted twice. The ordering, position, coalescing and ETA rules are pure (`_queueing`, `_eta`);
this module adds the futures, `_lines` the timers and `_updates` what a waiting run is told and
when. Tickets reach the scheduler through `TicketOwner` (`acquire`, `release`, `close_run`).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from server.engine.scheduler._compare import admit_unit, start_next
from server.engine.scheduler._downstream import Downstream
from server.engine.scheduler._eta import ServiceTimes, suggest_retry_after
from server.engine.scheduler._lines import FairGroups, PersonLine, Pool, Ticker
from server.engine.scheduler._metrics import PoolSnapshot, SchedulerMetrics, SchedulerSnapshot
from server.engine.scheduler._pause import ClassPauses
from server.engine.scheduler._queueing import Admission, RunLimits, WaitKey, run_priority
from server.engine.scheduler._settings import (
    Busy,
    RunClosed,
    SchedulerSettings,
    TooManyRuns,
    UnknownPool,
)
from server.engine.scheduler._ticket import Lease, Outcome, QueueCallback, RunPhase, RunTicket
from server.engine.scheduler._updates import tell_person, tell_pool
from server.engine.scheduler._whole import record_end
from server.engine.state.slots import LOCAL_SLOTS, GlobalSlots


class Scheduler(ClassPauses):
    """Admission, person lines and pool slots for every run of the server."""

    def __init__(
        self,
        settings: SchedulerSettings,
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()  # no class paused
        self.settings = settings
        self._clock = clock
        interval = settings.queue_update_interval
        self._pools = {p.name: Pool(p.name, p.slots, interval, self._tell) for p in settings.pools}
        self._eta_refresh = Ticker(settings.eta_refresh_interval, self.refresh_etas)
        self._people: dict[str, PersonLine] = {}
        self._fair = FairGroups()  # runs in flight per fair group: their order in the pools
        self._runs: dict[str, RunTicket] = {}
        self._times = ServiceTimes(settings.eta_window)
        self._run_seq = itertools.count(1)
        self._lease_seq = itertools.count(1)
        self._start_seq = itertools.count(1)  # start order, not admission order: see _queueing
        self._queued = 0  # runs in person lines
        self._pool_waiting = 0  # leases in pool lines
        self.refusals = 0
        self._metrics = SchedulerMetrics(registry, self.snapshot) if registry is not None else None
        self.global_slots: GlobalSlots = LOCAL_SLOTS  # the wiring's, when instances share

    # -- numbers -------------------------------------------------------------------------

    @property
    def held_slots(self) -> int:
        return sum(p.queue.held for p in self._pools.values())

    @property
    def waiting_runs(self) -> int:
        return self._queued + self._pool_waiting

    def snapshot(self) -> SchedulerSnapshot:
        pools = {
            n: PoolSnapshot(p.queue.slots, p.queue.held, p.queue.waiting)
            for n, p in self._pools.items()
        }
        return SchedulerSnapshot(
            pools=pools,
            held_slots=self.held_slots,
            waiting_runs=self.waiting_runs,
            queued_for_person=self._queued,
            active_runs=len(self._runs) - self._queued,
            people=len(self._people),
            refusals=self.refusals,
        )

    def retry_after(self) -> float:
        """Suggested wait before retrying a refused run: the mean time between slot grants."""
        s = self.settings
        pools = ((p.queue.slots, self._times.pool_typical(n)) for n, p in self._pools.items())
        return suggest_retry_after(
            pools, default=s.retry_after_default, floor=s.retry_after_min, ceiling=s.retry_after_max
        )

    def typical_service_time(self, pool: str, stage: str) -> float | None:
        return self._times.typical(pool, stage)

    # -- admission and person lines ------------------------------------------------------

    def admit(
        self,
        run_id: str,
        person: str,
        *,
        limits: RunLimits | None = None,
        on_queue: QueueCallback | None = None,
        class_id: int | None = None,
        fair_group: str | None = None,
    ) -> RunTicket:
        """Admit `person`'s run or refuse it at once (Busy, TooManyRuns); nothing queued is
        touched. `limits` default to the settings' (a class passes its lower ones); a run of a
        class member names the class (its teacher may pause it); `fair_group` is whom it
        counts for in the fair order (default: the person; `_lines.FairGroups`)."""
        unit = {run_id: on_queue}
        return admit_unit(self, unit, person, limits, class_id, fair_group=fair_group)[0]

    def admit_group(
        self,
        runs: dict[str, QueueCallback | None],
        person: str,
        *,
        group: str | None,
        limits: RunLimits | None = None,
        class_id: int | None = None,
        fair_group: str | None = None,
    ) -> list[RunTicket]:
        """A compare's runs (one per perspective), admitted as ONE unit or refused (`_compare`)."""
        return admit_unit(self, runs, person, limits, class_id, group, fair_group)

    def _line_of(self, person: str, limits: RunLimits) -> PersonLine:
        """The person's line with their latest limits; made (not yet kept) if they have none."""
        line = self._people.get(person)
        if line is None:
            interval = self.settings.queue_update_interval
            return PersonLine(person, limits, interval, tell_person)
        line.limits = limits
        return line

    def _check_room(self, line: PersonLine, verdict: Admission, count: int = 1) -> None:
        """Refuse `count` runs, or keep the person's line (kept only once a run is in it)."""
        if verdict is Admission.REFUSE:
            self._refuse("person")
            raise TooManyRuns(
                "you already have as many runs as you may; wait until one has finished",
                retry_after=self.retry_after(),
            )
        if self.waiting_runs + count > self.settings.max_waiting_runs:
            self._refuse("busy")
            raise Busy("the queue is full", retry_after=self.retry_after())
        self._people[line.id] = line

    def _forget_if_idle(self, line: PersonLine) -> None:
        if not line.in_flight and not line.line:
            line.notifier.cancel()
            self._people.pop(line.id, None)

    def _refuse(self, reason: str) -> None:
        self.refusals += 1
        if self._metrics is not None:
            self._metrics.refused(reason)

    def _activate(self, line: PersonLine, ticket: RunTicket) -> None:
        s = self.settings
        start = next(self._start_seq)
        ticket.activate(run_priority(self._clock(), s.fairness_window, line.starts, start))
        line.starts += 1
        line.in_flight[ticket.run_id] = ticket
        self._fair.add(ticket)

    def close_run(self, ticket: RunTicket, *, cancelled: bool) -> None:
        """The ticket's `close`: free its place, fail its waiting requests, forget it."""
        if ticket.phase is RunPhase.CLOSED:
            return
        if not cancelled:
            self._times.record_run(ticket.jobs)
            record_end(self._times, ticket.clock, self._clock())
        line = self._people[ticket.person]
        if ticket.phase is RunPhase.QUEUED:
            del line.line[ticket.run_id]
            self._queued -= 1
            line.notifier.mark()
        else:
            line.in_flight.pop(ticket.run_id, None)
            self._fair.remove(ticket)
            self._move_up(ticket.fair_group)
            start_next(self, line)
        ticket.end()
        for lease in list(ticket.waiting):
            self._drop_waiter(lease)
            if not lease.future.done():
                lease.future.set_exception(RunClosed(f"run {ticket.run_id} was closed"))
        del self._runs[ticket.run_id]
        self._forget_if_idle(line)

    # -- slots ---------------------------------------------------------------------------

    async def acquire(self, ticket: RunTicket, pool_name: str, stage: str) -> Lease:
        """The ticket's `slot`: wait for the run's start, then for a slot of `pool_name`."""
        pool = self._pools.get(pool_name)
        if pool is None:
            raise UnknownPool(f"no backend pool named {pool_name!r}")
        await ticket.started()
        assert ticket.priority is not None  # set on activation
        key = WaitKey(self._fair.share(ticket), ticket.priority, next(self._lease_seq))
        future = asyncio.get_running_loop().create_future()
        lease = Lease(ticket, pool_name, stage, key, future, self._clock())
        if self._request(pool, lease):
            self._granted(lease)
            return lease
        ticket.waiting.add(lease)
        self._pool_waiting += 1
        pool.notifier.mark()
        self._eta_refresh.wake()
        try:
            await future
        except BaseException:
            if future.done() and not future.cancelled() and future.exception() is None:
                self.release(lease, "cancelled")  # granted as we were cancelled: pass it on
            elif lease in ticket.waiting:
                self._drop_waiter(lease)
            raise
        if ticket.phase is RunPhase.CLOSED:
            self.release(lease, "cancelled")
            raise RunClosed(f"run {ticket.run_id} was closed")
        return lease

    def _move_up(self, group: str) -> None:
        """A run of the fair group ended: its waiting requests whose share fell take their
        new places (a slot is never free while anyone waits, so each one waits again)."""
        for ticket in self._fair.in_flight(group):
            for lease in ticket.waiting:
                share = self._fair.share(ticket)
                if share != lease.key.share:
                    pool = self._pools[lease.pool]
                    self._withdraw(pool, lease)
                    lease.key = lease.key._replace(share=share)
                    granted = self._request(pool, lease)
                    assert not granted, "a pool had a free slot while a request waited"
                    pool.notifier.mark()

    def _drop_waiter(self, lease: Lease) -> None:
        lease.run.waiting.discard(lease)
        self._pool_waiting -= 1
        pool = self._pools[lease.pool]
        self._withdraw(pool, lease)
        pool.notifier.mark()

    def _granted(self, lease: Lease) -> None:
        lease.granted_at = self._clock()
        lease.run.clock.granted(lease.pool, lease.stage, lease.granted_at)
        self._pools[lease.pool].holders.add(lease)
        if self._metrics is not None:
            self._metrics.waited(lease.pool, lease.stage, lease.granted_at - lease.queued_at)

    def release(self, lease: Lease, outcome: Outcome) -> None:
        """The end of the ticket's `slot` block: hand the slot to the next live waiter."""
        pool = self._pools[lease.pool]
        pool.holders.remove(lease)
        seconds = self._clock() - lease.granted_at
        if outcome == "ok":  # an aborted job says nothing about how long a job takes
            self._times.record(pool.name, lease.stage, seconds)
            lease.run.jobs.append((pool.name, lease.stage, seconds))
        if self._metrics is not None:
            self._metrics.served(pool.name, lease.stage, outcome, seconds)
        while (successor := pool.queue.release()) is not None:
            if self._hand_to(successor):  # else cancelled this instant: try the next one
                break
        pool.notifier.mark()

    def refresh_etas(self) -> bool:
        """The ETA refresh pass over every pool's line (its timer's tick); whether anyone
        still waits."""
        self._tell(*[pool for pool in self._pools.values() if len(pool.queue)], refresh=True)
        return self._pool_waiting > 0

    def _tell(self, *pools: Pool, refresh: bool = False) -> None:
        """Tell the waiters of `pools` their place (a line's flush) or their ETA (`refresh`)."""
        later = Downstream(self._times, self._pools, self._runs.values(), self._clock())
        for pool in pools:
            tell_pool(pool, self._times, later, refresh=refresh)

    def close(self) -> None:
        """Stop pending update timers (server shutdown); runs are cancelled by their owners."""
        self._eta_refresh.cancel()
        for pool in self._pools.values():
            pool.notifier.cancel()
        for line in self._people.values():
            line.notifier.cancel()
