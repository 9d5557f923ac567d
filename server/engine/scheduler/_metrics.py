"""The scheduler's numbers: a plain snapshot for /metrics and tests, and Prometheus histograms.

Histograms go into a `CollectorRegistry` the caller passes in (never the global registry);
the waiting/running gauges are read from the snapshot at scrape time, so they can never drift
from the scheduler's own counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# GPU stages take from a second (a safety check) to minutes (a 120B model, an upscale).
BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, float("inf"))


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    slots: int
    running: int
    waiting: int


@dataclass(frozen=True, slots=True)
class SchedulerSnapshot:
    pools: dict[str, PoolSnapshot]
    held_slots: int  # returns to 0 when nothing runs: the leak check
    waiting_runs: int  # in a person's line or in a pool's line: what max_waiting_runs bounds
    queued_for_person: int
    active_runs: int
    people: int  # owner keys with runs admitted
    refusals: int


class SchedulerMetrics:
    """Prometheus side of the scheduler; every method is cheap enough for the hot path."""

    def __init__(
        self, registry: CollectorRegistry, snapshot: Callable[[], SchedulerSnapshot]
    ) -> None:
        self.wait = Histogram(
            "atelier_scheduler_wait_seconds",
            "Time a stage waited for a backend slot",
            ("pool", "stage"),
            registry=registry,
            buckets=BUCKETS,
        )
        self.service = Histogram(
            "atelier_scheduler_service_seconds",
            "Time a stage held a backend slot",
            ("pool", "stage", "outcome"),
            registry=registry,
            buckets=BUCKETS,
        )
        self.refusals = Counter(
            "atelier_scheduler_refusals",
            "Runs refused at admission",
            ("reason",),
            registry=registry,
        )
        registry.register(_SnapshotCollector(snapshot))

    def waited(self, pool: str, stage: str, seconds: float) -> None:
        self.wait.labels(pool, stage).observe(seconds)

    def served(self, pool: str, stage: str, outcome: str, seconds: float) -> None:
        self.service.labels(pool, stage, outcome).observe(seconds)

    def refused(self, reason: str) -> None:
        self.refusals.labels(reason).inc()


class _SnapshotCollector(Collector):
    def __init__(self, snapshot: Callable[[], SchedulerSnapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self._snapshot()
        waiting = GaugeMetricFamily(
            "atelier_scheduler_waiting", "Slot requests waiting per pool", labels=["pool"]
        )
        running = GaugeMetricFamily(
            "atelier_scheduler_running", "Slots held per pool", labels=["pool"]
        )
        for name, pool in snap.pools.items():
            waiting.add_metric([name], pool.waiting)
            running.add_metric([name], pool.running)
        yield waiting
        yield running
        yield GaugeMetricFamily(
            "atelier_scheduler_person_queued",
            "Runs waiting for a place among their person's runs in flight",
            value=snap.queued_for_person,
        )
