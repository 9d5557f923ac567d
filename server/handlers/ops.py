"""Operational endpoints: /healthz (alive), /readyz (accepting work), /metrics (Prometheus).

Ready means: started, not shutting down, and (with a pipeline) at least one instance of each
backend kind is healthy, starting, or can be started on demand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from server.engine.pipeline import Pipeline
from server.engine.state import STATE_COUNTERS
from server.engine.state.slots import SLOT_COUNTERS
from server.handlers.keys import PIPELINE, READY, REGISTRY, STATS
from server.protocol import BackendState

_COUNTERS = {
    "messages_in": "client messages received",
    "messages_out": "server messages sent",
    "outbox_overflows": "sockets dropped because their outbox overflowed",
    "send_timeouts": "sockets aborted because a send timed out",
    "rate_limited": "client messages refused by the rate limit",
    "resumes": "sessions resumed by a reconnect",
    "resume_failures": "resume attempts that started a fresh session instead",
    "resyncs": "resumes answered with snapshots because the log no longer reached back",
    "replayed_events": "events replayed to resuming clients",
    "sessions_created": "sessions created",
    "sessions_expired": "detached sessions closed after the grace period",
    "sessions_displaced": "detached sessions closed to make room for a new one of that person",
    "sessions_refused": "new sessions refused: the person or address held all theirs attached",
}


class SocketCollector:
    """Reads the live counters of one app at scrape time."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        stats = self._app[STATS]
        sessions = GaugeMetricFamily("atelier_sessions", "sessions by state", labels=["state"])
        for state, count in self._app[REGISTRY].counts().items():
            sessions.add_metric([state.value], count)
        yield sessions
        yield GaugeMetricFamily("atelier_sockets", "open WebSockets", value=stats.sockets_open)
        for name, help_text in _COUNTERS.items():
            yield CounterMetricFamily(f"atelier_{name}", help_text, value=getattr(stats, name))
        for name, value in self._app[REGISTRY].state.counters().items():  # none when embedded
            yield CounterMetricFamily(f"atelier_state_{name}", STATE_COUNTERS[name], value=value)


class PipelineCollector:
    """Runs, held slots, open upstream responses and live tasks: each must return to zero."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def collect(self) -> Iterator[Metric]:
        services = self._pipeline.services
        yield GaugeMetricFamily(
            "atelier_runs_active", "runs not yet ended", value=self._pipeline.active_runs
        )
        yield GaugeMetricFamily(
            "atelier_tasks", "live asyncio tasks", value=len(asyncio.all_tasks())
        )
        yield GaugeMetricFamily(
            "atelier_slots_held", "scheduler slots held", value=services.scheduler.held_slots
        )
        for name, value in services.scheduler.global_slots.counters().items():  # redis only
            yield CounterMetricFamily(
                f"atelier_global_slots_{name}", SLOT_COUNTERS[name], value=value
            )
        yield GaugeMetricFamily(
            "atelier_upstream_open",
            "open upstream HTTP responses",
            value=services.backends.open_responses,
        )
        yield GaugeMetricFamily(
            "atelier_uploads_held",
            "students' uploads held: being read, waiting for a run, or in one",
            value=services.uploads.held,
        )


class BackendCollector:
    """Each backend instance's state, breaker, launches and the failures seen on it."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def collect(self) -> Iterator[Metric]:
        services = self._pipeline.services
        labels = ["kind", "instance"]
        state = GaugeMetricFamily(
            "atelier_backend_state", "1 for the state each backend is in", labels=[*labels, "state"]
        )
        breaker = GaugeMetricFamily(
            "atelier_backend_breaker_open",
            "1 while the circuit breaker keeps work away",
            labels=labels,
        )
        starts = CounterMetricFamily(
            "atelier_backend_starts", "launches of a backend's start command", labels=labels
        )
        entered = CounterMetricFamily(
            "atelier_backend_transitions",
            "health state changes of a backend, by the state entered",
            labels=[*labels, "state"],
        )
        for info in services.backends.status():
            key = [info.kind.value, info.instance]
            for value in BackendState:
                state.add_metric([*key, value.value], 1.0 if info.state is value else 0.0)
            breaker.add_metric(key, 1.0 if info.breaker_open else 0.0)
            starts.add_metric(key, info.starts)
            for entered_state, count in info.entered.items():
                entered.add_metric([*key, entered_state.value], count)
        yield state
        yield breaker
        yield starts
        yield entered
        backends = services.backends
        yield CounterMetricFamily(
            "atelier_backend_failures",
            "work that failed on a backend instance",
            value=backends.failures,
        )
        yield CounterMetricFamily(
            "atelier_backend_retries", "stages retried on another instance", value=backends.retries
        )


def register_pipeline(registry: CollectorRegistry, pipeline: Pipeline) -> None:
    registry.register(PipelineCollector(pipeline))
    registry.register(BackendCollector(pipeline))


def metrics_registry(app: web.Application) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SocketCollector(app))
    return registry


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if not request.app[READY].is_set():
        return web.json_response({"status": "not ready"}, status=503)
    body: dict[str, object] = {"status": "ready", "sessions": len(request.app[REGISTRY])}
    pipeline = request.app.get(PIPELINE)
    if pipeline is not None:
        kinds = pipeline.services.backends.ready()
        body["backends"] = kinds
        if not all(kinds.values()):
            body["status"] = "not ready"
            return web.json_response(body, status=503)
    return web.json_response(body)


METRICS = web.AppKey("metrics", CollectorRegistry)


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS])
    return web.Response(body=body, content_type="text/plain", charset="utf-8")
