"""The whole-run estimate under load: a run's end waits for the busiest pool still ahead of it.

Why. `_whole` adds to a slot's ETA the time completed runs took from that slot to their end.
Those runs were measured under the load of their moment; when a class presses "go" together,
twenty runs wait for the language model and then all of them for the one picture server. In
a demo burst of ten runs the estimate first told at the text stage was 1-14 s short, more the
further back in line (the picture server's line did not exist yet when they were told).

What it adds. A later slot of another pool (its route is the one the last completed run took
after this slot: `ServiceTimes.later`) cannot be granted before that pool has finished the
work in hand (its holders' expected remaining time) and the work of every run ahead in order
that still needs that slot (each its typical service time), spread over the pool's slots. The
run's end is then at least that wait plus the slot's typical time to the end (`after`). The
whole-run estimate is the largest of these bounds and the plain sum: a lower bound on work
that must happen first, so it never invents work. A bound that needs a time nobody has
measured is left out (the plain sum still stands).

Ahead means an earlier run priority (start order: `_queueing.RunPriority`); a fair group's
second run, which the slot order puts behind everyone's first, counts as ahead here only if it
started earlier: the bound is then slightly high for runs of people with two runs in flight.
Per waiter it costs one binary search per later slot; each slot's sorted list of who still
needs it is built once per pass (O(runs log runs)).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from server.engine.scheduler._eta import ServiceTimes, Slot
from server.engine.scheduler._lines import Pool
from server.engine.scheduler._queueing import RunPriority
from server.engine.scheduler._ticket import RunPhase, RunTicket


@dataclass(frozen=True, slots=True)
class _Later:
    """A later slot on another pool, as one pass sees it."""

    slot: Slot
    in_hand: float  # the expected remaining time of the pool's holders, summed
    per_run: float  # the slot's typical service time: each run ahead adds it
    slots: int
    after: float  # the slot's typical time from its grant to the run's end


class Downstream:
    """The whole-run estimates of one telling pass (`now`): per slot, what is measured after it
    and the later pools' work ahead, computed once and shared by every waiter."""

    def __init__(
        self,
        times: ServiceTimes,
        pools: Mapping[str, Pool],
        runs: Collection[RunTicket],
        now: float,
    ) -> None:
        self.now = now
        self._times = times
        self._pools = pools
        self._runs = runs  # read only if a waiter has a later slot (`_needing_of`)
        self._plans: dict[Slot, tuple[float, list[_Later]] | None] = {}
        self._needing: dict[Slot, list[RunPriority]] = {}

    def whole(
        self, ticket: RunTicket, pool: str, stage: str, slot_eta: float | None
    ) -> float | None:
        """The whole-run estimate to tell `ticket`'s run, waiting for `pool` (`_whole`): its
        slot's wait and time to the end, or the later pools' bound if that is later; steady
        (`RunClock.steady`); None while unmeasured."""
        clock = ticket.clock
        slot = clock.next_slot(pool, stage)
        plan = self._plan(slot)
        if slot_eta is None or plan is None or ticket.priority is None:
            return clock.steady(None, self.now)
        after, laters = plan
        total = slot_eta + after
        for later in laters:
            ahead = bisect.bisect_left(self._needing_of(later.slot), ticket.priority)
            bound = (later.in_hand + ahead * later.per_run) / later.slots + later.after
            total = bound if bound > total else total
        return clock.steady(float(math.ceil(total)), self.now)

    def _plan(self, slot: Slot) -> tuple[float, list[_Later]] | None:
        if slot not in self._plans:
            after = self._times.after(slot)
            laters = [self._later(s) for s in self._times.later(slot) if s[0] != slot[0]]
            known = [later for later in laters if later is not None]
            self._plans[slot] = None if after is None else (after, known)
        return self._plans[slot]

    def _later(self, slot: Slot) -> _Later | None:
        """A later slot with everything its bound needs measured, or None (left out)."""
        pool = self._pools.get(slot[0])
        per_run = self._times.typical(slot[0], slot[1])
        after = self._times.after(slot)
        if pool is None or per_run is None or after is None:
            return None
        left = [
            self._times.remaining(slot[0], h.stage, self.now - h.granted_at) for h in pool.holders
        ]
        if None in left:
            return None
        in_hand = sum(t for t in left if t is not None)
        return _Later(slot, in_hand, per_run, pool.queue.slots, after)

    def _needing_of(self, slot: Slot) -> list[RunPriority]:
        """Priorities, sorted, of the active runs that have not been granted `slot` yet."""
        if slot not in self._needing:
            needing = [
                r.priority
                for r in self._runs
                if r.phase is RunPhase.ACTIVE and r.priority and not r.clock.had(slot)
            ]
            self._needing[slot] = sorted(needing)
        return self._needing[slot]
