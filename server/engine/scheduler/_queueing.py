"""The scheduler's pure rules: who goes first, where everyone stands, how often they are told.

Nothing here awaits or touches an event loop, so the rules are tested with plain function calls
(`tests/unit/test_scheduler_rules.py`); the scheduler (`_scheduler`) wraps them in futures.

Admission. Runs are counted per person (an owner key: one student across all their sessions and
tabs), never per session, so more sessions buy no more runs: a person's run starts at once while
they have fewer than `RunLimits.in_flight` runs working, waits in the person's own line while
that line is shorter than `RunLimits.queued`, and is refused otherwise (`admission`).

Ordering. A slot request goes first by its run's share: how many of its person's runs in flight
started before it. Every person's oldest run (share 0) goes before anyone's second (share 1), so
one student's two runs in flight hold a victim back by at most one job per pool, not two; when a
person's older run ends, their waiting requests move up (`Scheduler` re-keys them). Within a
share, a run gets its `RunPriority` once, when it starts (takes one of its person's in-flight
places), and keeps it for every stage: a run that finished stage 2 therefore waits ahead of runs
that started later, whatever stage they are in. Runs that start within the same fairness window
(a class pressing "go" together) are ties; a tie goes to the person who has started fewer runs
so far, which interleaves a burst from one person with single runs from the others. A person's
queued runs get their priority only when they start, so they never stand before anyone else's.

Telling. A change of place is coalesced per line by `Throttle`; an ETA that moves while the
place stays is told only when it drifted materially from what the page counts down
(`eta_drifted`), and only by the scheduler's periodic refresh pass (`_updates`).

Positions. `SlotQueue` keeps its waiters in a list sorted by key. Inserting is a binary search
plus one memmove (new runs land at the tail; returning runs near the head), removing the head or
a cancelled waiter is the same, and every waiter's position is its index: one ordered pass
yields all positions, with no per-waiter search. A heap would make positions O(n log n) per
update; a balanced tree is not in the standard library, and a memmove of 10,000 pointers costs
microseconds (see `bench/bench_scheduler.py`).
"""

from __future__ import annotations

import bisect
import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from server.engine.errors import InvalidState

T = TypeVar("T")

#: An ETA refresh is sent when the estimate moved from the page's countdown by at least this
#: many seconds and this share of the estimate: a ±1 s jitter is noise, 30 s off at 5 min too.
ETA_DRIFT_SECONDS = 2.0
ETA_DRIFT_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class RunLimits:
    """One person's bounds: runs working at once, and runs waiting behind those."""

    in_flight: int
    queued: int

    def __post_init__(self) -> None:
        if self.in_flight < 1 or self.queued < 0:
            raise ValueError(f"invalid run limits {self}")


class Admission(enum.Enum):
    """What becomes of a person's new run."""

    START = "start"  # it takes an in-flight place at once
    QUEUE = "queue"  # it waits in the person's own line
    REFUSE = "refuse"  # the person already has every run they may have


def admission(in_flight: int, queued: int, limits: RunLimits) -> Admission:
    """Where a person's new run goes, given how many of their runs work and wait already."""
    if in_flight < limits.in_flight:
        return Admission.START
    if queued < limits.queued:
        return Admission.QUEUE
    return Admission.REFUSE


class RunPriority(NamedTuple):
    """Order of runs across every pool; smaller goes first."""

    tick: int
    person_rank: int
    start_seq: int


class WaitKey(NamedTuple):
    """One slot request: its run's share of its fair group's runs in flight (0 for the
    group's oldest run, 1 for the next, ...; a group is a person, or every guest of one
    address: `_lines.FairGroups`), the run's priority, then the request's own number (keys
    are unique). The share comes first: a group's second run never goes before anyone's first.
    """

    share: int
    priority: RunPriority
    lease: int


def run_priority(
    now: float, fairness_window: float, person_starts: int, start_seq: int
) -> RunPriority:
    """The priority of a run starting at `now` (the `start_seq`-th start of the scheduler),
    its person having started `person_starts` runs before (while they had runs admitted).

    Start order, not admission order: a person's queued run that starts late must not jump
    ahead of other people's runs that started while it waited in its own line. With a window
    of 0 every start is its own tick: strict first come, first served.
    """
    tick = math.floor(now / fairness_window) if fairness_window > 0 else start_seq
    return RunPriority(tick, person_starts, start_seq)


class WaitReason(enum.StrEnum):
    """Why a run is waiting; goes onto the wire in `queue` events."""

    PERSON = "person"  # its person already has the maximum number of runs in flight
    SLOT = "slot"  # it waits for a slot of a backend pool


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """Where a waiting run stands. `position` is 1 for the next to be served.

    For `WaitReason.PERSON` the position is within the person's own line and pool/stage are
    None. `eta_seconds` is None while there is no measurement to base it on, and while the
    run's class is `paused` by its teacher (`_pause`). `run_eta` is the whole-run estimate:
    seconds until the run is expected to end (`_whole`), None while unknown.
    """

    reason: WaitReason
    pool: str | None
    stage: str | None
    position: int
    queue_length: int
    eta_seconds: float | None
    paused: bool = False
    run_eta: float | None = None

    def same_place(self, other: QueueInfo) -> bool:
        """The same line, position and length: only the ETA may differ."""
        return (self.reason, self.pool, self.stage, self.position, self.queue_length) == (
            other.reason,
            other.pool,
            other.stage,
            other.position,
            other.queue_length,
        )


def eta_drifted(told: float | None, told_at: float, estimate: float | None, now: float) -> bool:
    """Whether a fresh estimate differs materially from what the run was told at `told_at`.

    The page counts a told ETA down by itself, so the comparison is with that countdown, not
    with the number told: a run that was told 30 s ten seconds ago and now expects 20 s has
    nothing new to hear. Unknown becoming known, or the reverse, is always material.
    """
    if told is None or estimate is None:
        return (told is None) != (estimate is None)
    shown = max(0.0, told - (now - told_at))
    return abs(estimate - shown) >= max(ETA_DRIFT_SECONDS, ETA_DRIFT_SHARE * estimate)


class SlotQueue(Generic[T]):
    """A pool's slots and its ordered waiters; hands a freed slot straight to the next waiter.

    Invariant: a slot is never free while someone waits (`request` grants only when nobody
    waits, `release` hands over before it frees), so there is no moment to lose a wake-up in.
    """

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a pool needs at least one slot")
        self.slots = slots
        self.held = 0
        self._keys: list[WaitKey] = []
        self._items: dict[WaitKey, T] = {}

    @property
    def waiting(self) -> int:
        return len(self._keys)

    def request(self, key: WaitKey, item: T) -> bool:
        """Take a free slot (True) or join the line in key order (False)."""
        if key in self._items:
            raise ValueError(f"duplicate wait key {key}")
        if self.held < self.slots and not self._keys:
            self.held += 1
            return True
        bisect.insort(self._keys, key)
        self._items[key] = item
        return False

    def release(self) -> T | None:
        """Give up one held slot: returns the waiter it now belongs to, or None if it is free."""
        if self.held <= 0:
            raise InvalidState("release without a held slot")
        if not self._keys:
            self.held -= 1
            return None
        key = self._keys.pop(0)
        return self._items.pop(key)

    def remove(self, key: WaitKey) -> bool:
        """Take a waiter out of line (cancelled, closed). False if it is not waiting."""
        if self._items.pop(key, None) is None:
            return False
        index = bisect.bisect_left(self._keys, key)
        del self._keys[index]
        return True

    def rank(self, key: WaitKey) -> int:
        """How many waiters go before `key`, whether it waits or holds a slot. O(log n)."""
        return bisect.bisect_left(self._keys, key)

    def position(self, key: WaitKey) -> int | None:
        """1-based position of a waiter, or None. O(log n)."""
        if key not in self._items:
            return None
        return bisect.bisect_left(self._keys, key) + 1

    def __iter__(self) -> Iterator[T]:
        """Waiters in the order they will be served."""
        items = self._items
        return (items[key] for key in self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class Throttle:
    """Coalesces change notifications: at most one flush per `interval`, never a lost last one.

    The first change after a quiet period is flushed at once (leading edge); changes during the
    interval are gathered into one flush at its end (trailing edge), so the latest position is
    always delivered.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._pending = False
        self._last: float | None = None

    @property
    def pending(self) -> bool:
        return self._pending

    def request(self, now: float) -> float | None:
        """Something changed at `now`: the delay until the flush, or None if one is pending."""
        if self._pending:
            return None
        self._pending = True
        if self._last is None:
            return 0.0
        return max(0.0, self._last + self.interval - now)

    def flushed(self, now: float) -> None:
        self._pending = False
        self._last = now
