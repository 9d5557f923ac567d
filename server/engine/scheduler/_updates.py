"""What a waiting run is told, and when: its place in line and its ETA (`queue` events).

Two kinds of update. A change of place (position, line length, stage) is flushed per line by
the line's `Notifier` (the first change at once, then at most one per
`queue_update_interval`, the last one never lost) and carries a fresh ETA. An ETA that moves
while the place stays is told only by the refresh pass: one timer for the whole scheduler,
running while anyone waits in a pool's line, which every `eta_refresh_interval` recomputes
every waiter's ETA (O(waiters) per pass, see `bench/bench_scheduler.py`) and tells those whose
estimate drifted materially from the page's countdown (`_queueing.eta_drifted`). So a run hears
at most one ETA-only update per interval. Every update also carries the whole-run estimate
(`run_eta`, `_whole`), told the same way: a refresh tells it when it drifted from the countdown.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from server.engine.scheduler._downstream import Downstream
from server.engine.scheduler._eta import ServiceTimes, Work, estimate_waits
from server.engine.scheduler._lines import PersonLine, Pool
from server.engine.scheduler._queueing import QueueInfo, WaitReason, eta_drifted
from server.engine.scheduler._ticket import Lease


def tell_pool(pool: Pool, times: ServiceTimes, later: Downstream, *, refresh: bool) -> None:
    """Tell the pool's waiters what changed: their place (`refresh` False) or their ETA;
    `later` bounds their whole-run estimate by the pools still ahead (`_downstream`)."""
    now = later.now
    for lease, info in pool_infos(pool, times, later):
        if _worth_telling(lease, info, now, refresh=refresh):
            lease.last_info, lease.told_at = info, now
            lease.run.clock.tell(info.run_eta, now)
            lease.run.notify(info)


def _worth_telling(lease: Lease, info: QueueInfo, now: float, *, refresh: bool) -> bool:
    last = lease.last_info
    if last is None or not info.same_place(last):
        return not refresh  # places go through the line's throttle, never around it
    moved = eta_drifted(last.eta_seconds, lease.told_at, info.eta_seconds, now)
    return refresh and (moved or lease.run.clock.drifted(info.run_eta, now))


def pool_infos(
    pool: Pool, times: ServiceTimes, later: Downstream
) -> Iterator[tuple[Lease, QueueInfo]]:
    """Every waiter of `pool` in order, with its place and ETA (whole seconds, rounded up)."""
    name = pool.name
    per_stage: dict[str, tuple[float | None, float | None]] = {}

    def waiting(rank: int, stage: str) -> Work:
        if stage not in per_stage:
            per_stage[stage] = (times.typical(name, stage), times.rest(name, stage))
        return Work(rank, *per_stage[stage])

    def running(lease: Lease) -> Work:
        job = times.remaining(name, lease.stage, later.now - lease.granted_at)
        # Between the waiters around its key: its rest comes back ahead of those after it.
        return Work(pool.queue.rank(lease.key) - 0.5, job, times.rest(name, lease.stage))

    leases = list(pool.queue)
    etas = estimate_waits(
        pool.queue.slots,
        [running(h) for h in pool.holders],
        [waiting(i, lease.stage) for i, lease in enumerate(leases)],
    )
    length = len(leases)
    for position, (lease, eta) in enumerate(zip(leases, etas, strict=True), 1):
        rounded = None if eta is None else float(math.ceil(eta))
        whole = later.whole(lease.run, name, lease.stage, eta)
        place = (WaitReason.SLOT, name, lease.stage, position, length)
        yield lease, QueueInfo(*place, rounded, run_eta=whole)


def tell_person(person: PersonLine) -> None:
    """Tell the runs in a person's own line their place (they have no ETA)."""
    length = len(person.line)
    for position, ticket in enumerate(person.line.values(), 1):
        info = QueueInfo(WaitReason.PERSON, None, None, position, length, None)
        if info != ticket.last_info:
            ticket.last_info = info
            ticket.notify(info)
