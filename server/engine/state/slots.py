"""Slots of a backend pool counted across every instance: leases that expire.

Each instance's scheduler hands out its pools' slots in its own fair order, as if it were the
only one: two instances on one GPU server would run twice the jobs the server holds. With a
shared store a job therefore also holds, for the whole time it holds a local slot, one of the
pool's slots across instances (`GlobalSlots.hold`, around the scheduler's slot block in
`RunTicket.slot`). The local fair order decides who asks next on this instance; between the
instances' asking jobs a freed slot goes to the one that first asked (first come, first
served): the order across instances is that, not one fair order of every run. The embedded
back end (`LocalSlots`) has no one to share with: the local scheduler is the truth, and a
hold costs a counter. The Redis one is `redis_slots.RedisSlots`.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Protocol

#: Called once when a job must wait for a slot another instance holds (its run is told so).
WaitHook = Callable[[], None]

#: The Redis back end's counters on /metrics (`atelier_global_slots_<name>_total`).
SLOT_COUNTERS = {
    "grants": "leases on backend slots taken across instances",
    "waits": "jobs that waited for a slot another instance held",
    "round_trips": "round trips to Redis for slot leases (acquire, release, renewal)",
    "renewals": "renewals of this instance's leases",
    "lost": "leases found run out at a renewal with no room to take them back",
    "unreachable": "jobs that went by their local slot because Redis did not answer",
}


class GlobalSlots(Protocol):
    """One instance's share of its pools' slots across instances."""

    def hold(self, pool: str, on_wait: WaitHook) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold one slot of `pool` across instances for the block; released on every way
        out (cancellation included). `on_wait` is called if the slot is not free at once."""
        ...

    async def held(self, pool: str) -> int:
        """Slots of `pool` held now, by every instance this back end knows of."""
        ...

    def counters(self) -> dict[str, int]:
        """What the back end did so far, by the names `SLOT_COUNTERS` explains."""
        ...

    async def aclose(self) -> None:
        """Give back every slot still held and let go of the store."""
        ...


class LocalSlots:
    """The embedded back end: one instance, so the local scheduler's count is the only one."""

    def __init__(self) -> None:
        self._held: Counter[str] = Counter()

    @contextlib.asynccontextmanager
    async def hold(self, pool: str, on_wait: WaitHook) -> AsyncIterator[None]:
        self._held[pool] += 1
        try:
            yield
        finally:
            self._held[pool] -= 1

    async def held(self, pool: str) -> int:
        return self._held[pool]

    def counters(self) -> dict[str, int]:
        """None: nothing is shared (no metrics, as before)."""
        return {}

    async def aclose(self) -> None:
        """Nothing is shared: nothing to give back."""


#: The scheduler's default: no other instance.
LOCAL_SLOTS = LocalSlots()


@contextlib.asynccontextmanager
async def open_slots(
    kind: str, redis_url: str, pools: Mapping[str, int], lease_seconds: float
) -> AsyncIterator[GlobalSlots]:
    """The back end the `state` setting names, for `pools` (name: slots), closed on leaving.
    Redis is imported only when it is used, as in `open_state`."""
    if kind != "redis":
        yield LocalSlots()
        return
    from server.engine.state.redis_slots import RedisSlots

    slots = RedisSlots.from_url(redis_url, pools, lease_seconds)
    try:
        yield slots
    finally:
        await slots.aclose()
