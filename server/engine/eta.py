"""Waiting-time estimates from measured service times; pure maths, no clock, no loop.

What the estimate is. For every (pool, stage) the last `window` service times of jobs that
finished normally are kept, each capped at `OUTLIER_CAP` times the window's median. A waiting
job is expected to take the mean of those capped times (its *typical* time). A running job
that has already run `elapsed` seconds is expected to need the mean of `t - elapsed` over the
capped times `t` longer than `elapsed` (the record's mean residual time: a job 20 s into a
stage whose jobs take 6 s or 30 s is one of the 30 s ones, not "done now"); once it has run
longer than every recorded job, `OVERRUN_SHARE` of its overrun (it has shown it is long, and
the estimate keeps growing while it runs instead of sticking at "any moment now"). A waiter's
ETA is then found by list scheduling: every slot is busy until its current job's expected
end, and each waiter ahead takes the earliest free slot for its typical time. That shares the
work out over the pool's slots and stays exact for a one-slot pool.

Why capped. One answer ten times longer than usual (a model running to `max_tokens` early in
a lesson) made a plain mean of a few samples 30–60 s too long for everyone behind it. With the
cap one sample moves the typical time by at most `OUTLIER_CAP` medians / window; a stage whose
long jobs are a regular mode under 4 medians (cut answers) is still averaged in full. The
figures behind the choice are in `tests/unit/test_scheduler_eta_replay.py`.

What it is not. It is no promise and no upper bound: it knows nothing of jobs that have not
arrived, of a backend going down, or of the length of the answers still to come. An estimate
that would need a service time nobody has measured yet is None (unknown), never a guess:
showing "unknown" is better than a number that turns out wrong. Jobs that failed or were
cancelled are not samples (see `Scheduler._release`).
"""

from __future__ import annotations

import bisect
import heapq
import statistics
from collections import deque
from collections.abc import Iterable, Iterator, Sequence

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
        cap = OUTLIER_CAP * statistics.median(self._samples)
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
    """Service records per pool and stage."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._records: dict[tuple[str, str], ServiceRecord] = {}

    def record(self, pool: str, stage: str, seconds: float) -> None:
        record = self._records.get((pool, stage))
        if record is None:
            record = self._records[(pool, stage)] = ServiceRecord(self.window)
        record.add(seconds)

    def typical(self, pool: str, stage: str) -> float | None:
        record = self._records.get((pool, stage))
        return None if record is None else record.typical

    def remaining(self, pool: str, stage: str, elapsed: float) -> float | None:
        record = self._records.get((pool, stage))
        return None if record is None else record.remaining(elapsed)

    def pool_typical(self, pool: str) -> float | None:
        """Mean of the typical times of the stages measured on `pool` (weighted equally)."""
        known = [
            t for (p, _), r in self._records.items() if p == pool and (t := r.typical) is not None
        ]
        return sum(known) / len(known) if known else None


def estimate_waits(
    slots: int, busy: Sequence[float | None], services: Iterable[float | None]
) -> Iterator[float | None]:
    """For each waiter in order (given its expected service time), when it gets a slot.

    `busy` holds the expected remaining time of each running job (at most `slots` of them).
    """
    if any(b is None for b in busy):
        for _ in services:
            yield None
        return
    free_at = [b for b in busy if b is not None][:slots]
    free_at.extend([0.0] * (slots - len(free_at)))
    heapq.heapify(free_at)
    known = True
    for service in services:
        if not known:
            yield None
            continue
        start = free_at[0]
        yield start
        if service is None:
            known = False  # everyone behind an unmeasured job has no honest estimate
        else:
            heapq.heapreplace(free_at, start + service)


def suggest_retry_after(
    pools: Iterable[tuple[int, float | None]], *, default: float, floor: float, ceiling: float
) -> float:
    """Seconds after which a refused run may find a free place: the mean time between two slot
    grants over all pools, given (slots, typical service time) per pool."""
    rate = sum(slots / mean for slots, mean in pools if mean is not None and mean > 0)
    if rate <= 0:
        return default
    return min(ceiling, max(floor, 1.0 / rate))
