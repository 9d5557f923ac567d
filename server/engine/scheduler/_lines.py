"""The lines a run waits in: a pool's line for a slot, a person's line for an in-flight place.

Each line coalesces its queue updates through a `Notifier`, so a burst of changes costs one
flush per interval rather than one message per change. The scheduler's ETA refresh pass runs
on a `Ticker`, which repeats only while someone waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from server.engine.scheduler._compare import share_of
from server.engine.scheduler._queueing import RunLimits, SlotQueue, Throttle
from server.engine.scheduler._ticket import Lease, RunTicket


class Notifier:
    """A coalesced flush: `mark()` on every change, `flush` runs at most once per interval."""

    def __init__(self, interval: float, flush: Callable[[], None]) -> None:
        self._throttle = Throttle(interval)
        self._flush = flush
        self._handle: asyncio.Handle | None = None

    @property
    def pending(self) -> bool:
        """A change waits for its flush."""
        return self._throttle.pending

    def mark(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # nobody can be awaiting a slot outside a loop
        delay = self._throttle.request(loop.time())
        if delay is None:
            return
        if delay <= 0:
            self._handle = loop.call_soon(self._run, loop)
        else:
            self._handle = loop.call_later(delay, self._run, loop)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        self._handle = None
        self._throttle.flushed(loop.time())
        self._flush()


class Ticker:
    """A repeating timer that runs only while it is needed: `wake()` arms it if it is idle,
    and each tick returns whether another one is wanted."""

    def __init__(self, interval: float, tick: Callable[[], bool]) -> None:
        self._interval = interval
        self._tick = tick
        self._handle: asyncio.TimerHandle | None = None

    @property
    def armed(self) -> bool:
        """A tick is scheduled."""
        return self._handle is not None

    def wake(self) -> None:
        if self._handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # nobody can be awaiting a slot outside a loop
        self._handle = loop.call_later(self._interval, self._run)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _run(self) -> None:
        self._handle = None
        if self._tick():
            self.wake()


class Pool:
    """One backend pool's slots, its waiting leases in order and the leases holding a slot."""

    def __init__(self, name: str, slots: int, interval: float, flush: Callable[[Pool], None]):
        self.name = name
        self.queue: SlotQueue[Lease] = SlotQueue(slots)
        self.holders: set[Lease] = set()
        self.notifier = Notifier(interval, lambda: flush(self))


class PersonLine:
    """One person's runs in flight (from all their sessions) and, behind them, their runs
    waiting for a place; `limits` are the person's latest (a class may lower them)."""

    def __init__(
        self,
        person: str,
        limits: RunLimits,
        interval: float,
        flush: Callable[[PersonLine], None],
    ) -> None:
        self.id = person
        self.limits = limits
        self.in_flight: dict[str, RunTicket] = {}  # by run id, in start order
        self.line: dict[str, RunTicket] = {}  # insertion-ordered: O(1) append, pop, remove
        self.starts = 0
        self.notifier = Notifier(interval, lambda: flush(self))


class FairGroups:
    """The runs in flight of each fair group, whose count orders a run's slot requests.

    A fair group is a person (their owner key) or, for the `open` mode's guests, the client
    address all of them come from (`per_address.fair_group`): one address that makes many
    guest persons still takes one person's place in the fair order, while each of its guests
    keeps their own limits. A run's share (its wait keys' first field) is how many units of
    its group in flight started before it (`_compare.share_of`).
    """

    def __init__(self) -> None:
        self._groups: dict[str, dict[str, RunTicket]] = {}

    def add(self, ticket: RunTicket) -> None:
        self._groups.setdefault(ticket.fair_group, {})[ticket.run_id] = ticket

    def remove(self, ticket: RunTicket) -> None:
        group = self._groups.get(ticket.fair_group)
        if group is not None and group.pop(ticket.run_id, None) is not None and not group:
            del self._groups[ticket.fair_group]

    def share(self, ticket: RunTicket) -> int:
        return share_of(ticket, self.in_flight(ticket.fair_group))

    def in_flight(self, group: str) -> Iterable[RunTicket]:
        return self._groups.get(group, {}).values()
