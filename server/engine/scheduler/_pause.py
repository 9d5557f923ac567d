"""A class's pause: its runs' slot requests keep their place in line but get no slot.

A teacher pauses a class (`Scheduler.pause_class`): every slot request of the class's runs that
waits in a pool's line is taken out of it ("parked") with its wait key, so nobody else waits
behind it; a run of the class that asks for a slot while the class is paused is parked at once
(its next stage waits). A run that holds a slot keeps it to the end of that job: the pause
stops the next request, not the work in progress. `resume_class` puts every parked request
back with the key it had, so it stands again before everyone who came later, and hands it a
free slot if there is one. Parked requests stay in their ticket's `waiting` and in the
scheduler's waiting count, so cancel, close and the bounds treat them as before; their run is
told once that it is paused (a `queue` event with `paused` and no ETA: while a teacher holds
it, nobody can say when it goes on).

The lines know runs, not classes: a ticket carries its person's class id (`admit`). This is a
mixin of `Scheduler`, a friend in the same package like `_lines` and `_updates`: it keeps the
pool lines' invariant (a slot is never free while someone waits in the line) because a parked
request is in no line.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from server.engine.scheduler._lines import Pool
from server.engine.scheduler._queueing import QueueInfo, WaitKey, WaitReason
from server.engine.scheduler._ticket import Lease


class ClassPauses:
    """The paused classes and their parked slot requests (mixed into `Scheduler`)."""

    _pools: dict[str, Pool]
    _pool_waiting: int
    _granted: Callable[[Lease], None]

    def __init__(self) -> None:
        self._paused: set[int] = set()
        self._parked: set[Lease] = set()  # requests of paused classes, in no line

    def class_paused(self, class_id: int) -> bool:
        return class_id in self._paused

    def pause_class(self, class_id: int) -> None:
        """Hold the class's waiting slot requests where they stand. Idempotent."""
        if class_id in self._paused:
            return
        self._paused.add(class_id)
        for pool in self._pools.values():
            waiting = [lease for lease in pool.queue if lease.run.class_id == class_id]
            for lease in waiting:
                pool.queue.remove(lease.key)
            if waiting:
                self._park(pool, waiting)
                pool.notifier.mark()  # everyone behind them moved up

    def resume_class(self, class_id: int) -> None:
        """Put the class's parked requests back where they stood, first in line first."""
        self._paused.discard(class_id)
        mine = sorted((p for p in self._parked if p.run.class_id == class_id), key=_wait_key)
        self._parked.difference_update(mine)
        for lease in mine:
            if lease.future.done():
                continue  # cancelled this instant: its `acquire` drops it
            pool = self._pools[lease.pool]
            lease.last_info = None  # its place is news again
            if pool.queue.request(lease.key, lease):
                lease.run.notify(next_in_line(pool, lease))  # not "paused" until its work shows
                self._hand_to(lease)
            pool.notifier.mark()

    def _request(self, pool: Pool, lease: Lease) -> bool:
        """A slot request: granted at once (True), or waiting in line or parked (False)."""
        if lease.run.class_id in self._paused:
            self._park(pool, [lease])
            return False
        return pool.queue.request(lease.key, lease)

    def _withdraw(self, pool: Pool, lease: Lease) -> None:
        """Take a request out of its line or out of the parked ones (cancelled, closed)."""
        if lease in self._parked:
            self._parked.discard(lease)
        else:
            pool.queue.remove(lease.key)

    def _hand_to(self, lease: Lease) -> bool:
        """Give `lease` the slot just held for it; False if it was cancelled this instant
        (the slot is then the caller's to pass on)."""
        lease.run.waiting.discard(lease)
        self._pool_waiting -= 1
        if lease.future.done():
            return False
        lease.future.set_result(None)
        self._granted(lease)
        return True

    def _park(self, pool: Pool, leases: list[Lease]) -> None:
        """Park requests of `pool` and tell each run where it stands (one sort per call, so a
        pause of n waiters costs O(n log n), not n passes over the parked ones)."""
        self._parked.update(leases)
        parked = sorted(p.key for p in self._parked if p.pool == pool.name)
        for lease in leases:
            info = paused_info(pool, lease, parked)
            lease.last_info = info
            lease.run.notify(info)


def _wait_key(lease: Lease) -> WaitKey:
    return lease.key


def next_in_line(pool: Pool, lease: Lease) -> QueueInfo:
    """What a resumed request that got a free slot at once was last: first in its line."""
    return QueueInfo(WaitReason.SLOT, pool.name, lease.stage, 1, len(pool.queue) + 1, None)


def paused_info(pool: Pool, lease: Lease, parked: list[WaitKey]) -> QueueInfo:
    """Where a parked request stands among every request of its pool, paused or not (`parked`:
    the pool's parked keys, sorted); no ETA."""
    ahead = pool.queue.rank(lease.key) + bisect.bisect_left(parked, lease.key)
    length = len(pool.queue) + len(parked)
    return QueueInfo(WaitReason.SLOT, pool.name, lease.stage, ahead + 1, length, None, paused=True)
