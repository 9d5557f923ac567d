"""Waiting-time estimates from measured service times; pure maths, no clock, no loop.

What the estimate is. For every (pool, stage) the last `window` service times of jobs that
finished normally are kept, each capped at `OUTLIER_CAP` times the window's median. A waiting
job is expected to take the mean of those capped times (its *typical* time). A running job
that has already run `elapsed` seconds is expected to need the mean of `t - elapsed` over the
capped times `t` longer than `elapsed` (the record's mean residual time: a job 20 s into a
stage whose jobs take 6 s or 30 s is one of the 30 s ones, not "done now"); once it has run
longer than every recorded job, `OVERRUN_SHARE` of its overrun (it has shown it is long, and
the estimate keeps growing while it runs instead of sticking at "any moment now").

Runs ahead come back. Order is by run start, so a run whose next stage uses the same pool
(safety, interception and translation on one LLM server) goes ahead of later runs again: a job
ahead therefore counts with the *rest* of its run in that pool, the time runs went on to hold
the pool's slots after that stage (measured per pool and stage when a run ends; a cancelled
run's rest is unknown and not a sample). Without it, the first ETAs on a one-slot LLM server
counted one job per run ahead instead of three or four and were 15-40 s too short.

A waiter's ETA is then found by list scheduling, played forward as the scheduler hands slots
over: every slot is busy until its current job's expected end; a freed slot goes to the first
in line, and the freeing run's rest then lines up by its run's rank, ahead of every waiter
that started later. Each waiter takes its typical time. That shares the work out over the
pool's slots and is exact for a one-slot pool whose times are as expected.

Why capped. One answer ten times longer than usual (a model running to `max_tokens` early in
a lesson) made a plain mean of a few samples 30–60 s too long for everyone behind it. With the
cap one sample moves the typical time by at most `OUTLIER_CAP` medians / window; a stage whose
long jobs are a regular mode under 4 medians (cut answers) is still averaged in full. The
median is of the samples above zero: when most runs are blocked at the first stage, the rest of
the others still counts. The figures behind the choice are in
`tests/unit/test_scheduler_eta_replay.py`.

What it is not. It is no promise and no upper bound: it knows nothing of jobs that have not
arrived, of a backend going down, or of the length of the answers still to come. An estimate
that would need a time nobody has measured yet (a stage's service time, or its rest before
any run that passed it has ended) is None (unknown), never a guess: showing "unknown" is
better than a number that turns out wrong. Jobs that failed or were cancelled are not samples
(see `Scheduler.release`); a run that failed counts as one that ended there.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import statistics
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

#: One finished job of a run: (pool, stage, seconds it held the slot).
Job = tuple[str, str, float]
#: One slot a run held: (pool, stage, how many slots of that pool and stage it held before).
Slot = tuple[str, str, int]

#: A sample counts for at most this many medians of its window: see the module docstring.
OUTLIER_CAP = 4.0
#: Past every recorded time, a running job's remaining time grows by this per second of overrun.
OVERRUN_SHARE = 0.5


class ServiceRecord:
    """The last `window` service times of one pool and stage, and what they predict."""

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self._samples: deque[float] = deque(maxlen=window)
        self._capped: list[float] = []  # sorted
        self._tail_sums: list[float] = []  # _tail_sums[i] = sum(_capped[i:])

    def add(self, seconds: float) -> None:
        """One finished job; re-summarised at once, so estimates cost O(log window)."""
        self._samples.append(max(0.0, seconds))
        positive = [s for s in self._samples if s > 0]
        cap = OUTLIER_CAP * statistics.median(positive) if positive else 0.0
        self._capped = sorted(min(s, cap) for s in self._samples)
        self._tail_sums = [0.0] * (len(self._capped) + 1)
        for i in range(len(self._capped) - 1, -1, -1):
            self._tail_sums[i] = self._tail_sums[i + 1] + self._capped[i]

    @property
    def count(self) -> int:
        return len(self._samples)

    @property
    def typical(self) -> float | None:
        """Expected service time of a job that has not started; None before any sample."""
        if not self._capped:
            return None
        return self._tail_sums[0] / len(self._capped)

    def remaining(self, elapsed: float) -> float | None:
        """Expected time left of a job that has run `elapsed` seconds; None before any sample."""
        if not self._capped:
            return None
        first_longer = bisect.bisect_right(self._capped, elapsed)
        longer = len(self._capped) - first_longer
        if longer == 0:
            return OVERRUN_SHARE * (elapsed - self._capped[-1])
        return self._tail_sums[first_longer] / longer - elapsed


class ServiceTimes:
    """Service records and rest records per pool and stage."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._service: dict[tuple[str, str], ServiceRecord] = {}
        self._rest: dict[tuple[str, str], ServiceRecord] = {}
        self._after: dict[Slot, ServiceRecord] = {}  # grant to run end: `_whole`
        self._later: dict[Slot, tuple[Slot, ...]] = {}  # the last route on from a slot

    def record(self, pool: str, stage: str, seconds: float) -> None:
        """A job that held a slot of `pool` for `stage` and finished normally."""
        self._add(self._service, pool, stage, seconds)

    def record_run(self, jobs: Sequence[Job]) -> None:
        """A run that ended (not cancelled), with its finished jobs in order."""
        for pool, stage, rest in rests(jobs):
            self._add(self._rest, pool, stage, rest)

    def _add(
        self, records: dict[tuple[str, str], ServiceRecord], pool: str, stage: str, value: float
    ) -> None:
        record = records.get((pool, stage))
        if record is None:
            record = records[(pool, stage)] = ServiceRecord(self.window)
        record.add(value)

    def typical(self, pool: str, stage: str) -> float | None:
        record = self._service.get((pool, stage))
        return None if record is None else record.typical

    def remaining(self, pool: str, stage: str, elapsed: float) -> float | None:
        record = self._service.get((pool, stage))
        return None if record is None else record.remaining(elapsed)

    def rest(self, pool: str, stage: str) -> float | None:
        """Typical pool time of a run after it finished `stage` there; None if unmeasured."""
        record = self._rest.get((pool, stage))
        return None if record is None else record.typical

    def record_after(self, grants: Sequence[tuple[Slot, float]], end: float) -> None:
        """A completed run ended at `end`: each slot's time from its grant to then (`_whole`)."""
        route = [slot for slot, _ in grants]
        for index, (slot, granted_at) in enumerate(grants):
            self._later[slot] = tuple(route[index + 1 :])
            record = self._after.get(slot)
            if record is None:
                record = self._after[slot] = ServiceRecord(self.window)
            record.add(end - granted_at)

    def after(self, slot: Slot) -> float | None:
        """Typical time from the grant of `slot` to its run's end; None while unmeasured."""
        record = self._after.get(slot)
        return None if record is None else record.typical

    def later(self, slot: Slot) -> tuple[Slot, ...]:
        """The slots the last completed run that held `slot` went on to hold (`_downstream`)."""
        return self._later.get(slot, ())

    def pool_typical(self, pool: str) -> float | None:
        """Mean of the typical times of the stages measured on `pool` (weighted equally)."""
        known = [
            t for (p, _), r in self._service.items() if p == pool and (t := r.typical) is not None
        ]
        return sum(known) / len(known) if known else None


def rests(jobs: Sequence[Job]) -> Iterator[Job]:
    """For each of a run's finished jobs in order: (pool, stage, the time the run went on to
    hold that pool's slots afterwards)."""
    later: dict[str, float] = {}
    found: list[Job] = []
    for pool, stage, seconds in reversed(jobs):
        found.append((pool, stage, later.get(pool, 0.0)))
        later[pool] = later.get(pool, 0.0) + seconds
    return reversed(found)


@dataclass(frozen=True, slots=True)
class Work:
    """A job in a pool, as the ETA sees it: where its run stands in the line's order (`rank`;
    a waiter's is its index, a running job's sits between those of the waiters around its key),
    the time the job still takes and the time its run will need in the pool afterwards."""

    rank: float
    job: float | None
    rest: float | None


def estimate_waits(
    slots: int, running: Sequence[Work], waiting: Sequence[Work]
) -> list[float | None]:
    """When each waiter (in line order, rank = index) gets a slot, by list scheduling.

    A freed slot goes to the first waiter in line, as the scheduler hands it over; the freeing
    run's rest then queues by its rank, so it goes ahead of every waiter ranked after it.
    Everyone served after a job whose times are unmeasured has no honest estimate (None).
    """
    etas: list[float | None] = [None] * len(waiting)
    if any(w.job is None or w.rest is None for w in running):
        return etas
    order = itertools.count()
    frees: list[tuple[float, int, Work | None]] = [(w.job or 0.0, next(order), w) for w in running]
    frees += [(0.0, next(order), None) for _ in range(slots - len(running))]
    heapq.heapify(frees)
    back: list[tuple[float, int, float]] = []  # (rank, order, time) of rests that came back
    head = 0
    while head < len(waiting) and frees:
        now, _, freed = heapq.heappop(frees)
        if back and back[0][0] < head:
            _, _, seconds = heapq.heappop(back)
            heapq.heappush(frees, (now + seconds, next(order), None))
        else:
            work = waiting[head]
            etas[head] = now
            head += 1
            if work.job is None or work.rest is None:
                break
            heapq.heappush(frees, (now + work.job, next(order), work))
        if freed is not None and freed.rest:
            heapq.heappush(back, (freed.rank, next(order), freed.rest))
    return etas


def suggest_retry_after(
    pools: Iterable[tuple[int, float | None]], *, default: float, floor: float, ceiling: float
) -> float:
    """Seconds after which a refused run may find a free place: the mean time between two slot
    grants over all pools, given (slots, typical service time) per pool."""
    rate = sum(slots / mean for slots, mean in pools if mean is not None and mean > 0)
    if rate <= 0:
        return default
    return min(ceiling, max(floor, 1.0 / rate))
