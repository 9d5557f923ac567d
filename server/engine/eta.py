"""Waiting-time estimates from measured service times; pure maths, no clock, no loop.

Service times are kept per (pool, stage) as a moving average over the last `window` finished
jobs. A waiting run's ETA is found by list scheduling: every slot is busy until its current job's
expected end, and each waiter ahead takes the earliest free slot for its stage's mean service
time. That shares the work out over the pool's slots and stays exact for a one-slot pool.
An estimate that would need a service time nobody has measured yet is None (unknown), never a
guess: showing "unknown" is better than a number that turns out wrong.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator, Sequence


class MovingAverage:
    """Mean of the last `window` samples, O(1) per sample."""

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self._samples: deque[float] = deque(maxlen=window)
        self._sum = 0.0

    def add(self, value: float) -> None:
        if len(self._samples) == self._samples.maxlen:
            self._sum -= self._samples[0]
        self._samples.append(value)
        self._sum += value

    @property
    def count(self) -> int:
        return len(self._samples)

    @property
    def mean(self) -> float | None:
        if not self._samples:
            return None
        # Re-summing would drift less but cost O(window); clamp the float drift instead.
        return max(0.0, self._sum / len(self._samples))


class ServiceTimes:
    """Moving averages of service times, per pool and stage."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._averages: dict[tuple[str, str], MovingAverage] = {}

    def record(self, pool: str, stage: str, seconds: float) -> None:
        average = self._averages.get((pool, stage))
        if average is None:
            average = self._averages[(pool, stage)] = MovingAverage(self.window)
        average.add(max(0.0, seconds))

    def mean(self, pool: str, stage: str) -> float | None:
        average = self._averages.get((pool, stage))
        return None if average is None else average.mean

    def pool_mean(self, pool: str) -> float | None:
        """Mean over the stages measured on `pool` (each stage weighted equally)."""
        means = [a.mean for (p, _), a in self._averages.items() if p == pool]
        known = [m for m in means if m is not None]
        return sum(known) / len(known) if known else None


def remaining(mean: float | None, elapsed: float) -> float | None:
    """Expected time left of a running job; an overrunning job is taken to end now."""
    return None if mean is None else max(0.0, mean - elapsed)


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
    grants over all pools, given (slots, mean service time) per pool."""
    rate = sum(slots / mean for slots, mean in pools if mean is not None and mean > 0)
    if rate <= 0:
        return default
    return min(ceiling, max(floor, 1.0 / rate))
