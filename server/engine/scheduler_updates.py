"""What a waiting run is told, and when: its place in line and its ETA (`queue` events).

Two kinds of update. A change of place (position, line length, stage) is flushed per line by
the line's `_Notifier` (the first change at once, then at most one per
`queue_update_interval`, the last one never lost) and carries a fresh ETA. An ETA that moves
while the place stays is told only by the refresh pass: one timer for the whole scheduler,
running while anyone waits in a pool's line, which every `eta_refresh_interval` recomputes
every waiter's ETA (O(waiters) per pass, see `bench/bench_scheduler.py`) and tells those whose
estimate drifted materially from the page's countdown (`queueing.eta_drifted`). So a run, and
a session, hears at most one ETA-only update per interval, all of a session's in one pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from server.engine.eta import ServiceTimes, estimate_waits
from server.engine.queueing import QueueInfo, WaitReason, eta_drifted

if TYPE_CHECKING:
    from server.engine.scheduler_lines import _Pool, _Session
    from server.engine.scheduler_ticket import _Lease


def tell_pool(pool: _Pool, times: ServiceTimes, now: float, *, refresh: bool) -> None:
    """Tell the pool's waiters what changed: their place (`refresh` False) or their ETA."""
    for lease, info in pool_infos(pool, times, now):
        if _worth_telling(lease, info, now, refresh=refresh):
            lease.last_info, lease.told_at = info, now
            lease.run._notify(info)


def _worth_telling(lease: _Lease, info: QueueInfo, now: float, *, refresh: bool) -> bool:
    last = lease.last_info
    if last is None or not info.same_place(last):
        return not refresh  # places go through the line's throttle, never around it
    return refresh and eta_drifted(last.eta_seconds, lease.told_at, info.eta_seconds, now)


def pool_infos(pool: _Pool, times: ServiceTimes, now: float) -> Iterator[tuple[_Lease, QueueInfo]]:
    """Every waiter of `pool` in order, with its place and ETA (whole seconds, rounded up)."""
    typical: dict[str, float | None] = {}

    def typical_of(stage: str) -> float | None:
        if stage not in typical:
            typical[stage] = times.typical(pool.name, stage)
        return typical[stage]

    busy = [times.remaining(pool.name, h.stage, now - h.granted_at) for h in pool.holders]
    leases = list(pool.queue)
    etas = estimate_waits(pool.queue.slots, busy, [typical_of(lease.stage) for lease in leases])
    length = len(leases)
    for position, (lease, eta) in enumerate(zip(leases, etas, strict=True), 1):
        rounded = None if eta is None else float(math.ceil(eta))
        yield lease, QueueInfo(WaitReason.SLOT, pool.name, lease.stage, position, length, rounded)


def tell_session(session: _Session) -> None:
    """Tell the runs in a session's own line their place (they have no ETA)."""
    length = len(session.line)
    for position, ticket in enumerate(session.line.values(), 1):
        info = QueueInfo(WaitReason.SESSION, None, None, position, length, None)
        if info != ticket._last_info:
            ticket._last_info = info
            ticket._notify(info)
