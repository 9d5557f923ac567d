"""Workshop preparation: is every kind of backend ready, and are the models warm?

`WarmUp` runs the existing warm-up (`backends/warmup.py`, the kind table's `warm`) on demand
from the teacher's console, and at start-up when `warm_up` is set, one model at a time per
instance (instances side by side), so its progress can be counted: `done` of `total` models,
`failed` of them not loaded. One runs at a time: starting it while it runs only answers its
progress. `readiness` sums each kind's instances up in one state code the console words.

"Warm" means this server's warm-up loaded the model; a backend may unload a model later
(Ollama does after its `keep_alive`), which the server does not see.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from server.engine.backends.instances import Instance
from server.engine.backends.kinds import KINDS, KindFacts
from server.engine.backends.registry import Backends
from server.protocol import BackendKind, BackendState

log = structlog.get_logger(__name__)

WarmState = Literal["idle", "running", "done", "failed"]
#: A kind's state: `missing` when none is configured, else its best instance's.
KindState = Literal["ready", "starting", "unhealthy", "down", "unknown", "missing"]

#: Best first: a kind is as ready as its readiest instance.
_STATE_ORDER: tuple[tuple[BackendState, KindState], ...] = (
    (BackendState.HEALTHY, "ready"),
    (BackendState.STARTING, "starting"),
    (BackendState.UNHEALTHY, "unhealthy"),
    (BackendState.UNKNOWN, "unknown"),
    (BackendState.DOWN, "down"),
)


@dataclass(frozen=True, slots=True)
class WarmProgress:
    state: WarmState
    done: int
    total: int
    failed: int


@dataclass(frozen=True, slots=True)
class KindReadiness:
    kind: BackendKind
    state: KindState
    instances: int
    healthy: int
    #: Would one start on demand (an instance with a start command)?
    startable: bool
    #: The pipeline's models this kind serves and whether each is warm; None: a kind that
    #: loads nothing ahead (the image server).
    models: list[tuple[str, bool]] | None


@dataclass(frozen=True, slots=True)
class _Job:
    kind: KindFacts[Any, Any]
    instance: Instance
    models: tuple[str, ...]


#: A warm-up that loaded every model is not run again for this long (its progress is the
#: answer): each one asks every backend outside the scheduler, so a script starting it again
#: and again would swap models in and out under another class's lesson. A failed one may be
#: retried at once.
REWARM_SECONDS = 60.0


class WarmUp:
    """The warm-up of every healthy instance of the kinds that load models, with progress."""

    def __init__(
        self,
        backends: Backends,
        models: Sequence[str],
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backends = backends
        self._clock = clock
        self._finished: float | None = None  # when the last warm-up ended
        self.models = tuple(dict.fromkeys(models))
        self.timeout = timeout
        self._state: WarmState = "idle"
        self._done = self._total = self._failed = 0
        #: (instance pool, model) pairs a warm-up loaded.
        self._warm: set[tuple[str, str]] = set()
        self._task: asyncio.Task[None] | None = None

    def progress(self) -> WarmProgress:
        return WarmProgress(self._state, self._done, self._total, self._failed)

    def start(self) -> WarmProgress:
        """Start a warm-up unless one runs or one loaded everything within `REWARM_SECONDS`;
        the progress either way."""
        if self._state == "running" or self._recently_done():
            return self.progress()
        jobs = self._jobs()
        self._done = self._failed = 0
        self._total = sum(len(job.models) for job in jobs)
        if not jobs:
            self._state = "failed" if self._unready() else "done"
            return self.progress()
        self._state = "running"
        self._task = asyncio.create_task(self._run(jobs))
        log.info("warm_up_started", models=self._total)
        return self.progress()

    def _recently_done(self) -> bool:
        if self._state != "done" or self._finished is None:
            return False
        return self._clock() - self._finished < REWARM_SECONDS

    def is_warm(self, instance: Instance, model: str) -> bool:
        return (instance.pool, model) in self._warm

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _jobs(self) -> list[_Job]:
        """Per healthy instance of a kind that warms: the pipeline's models it serves."""
        jobs = []
        for kind in KINDS.values():
            for instance in self.backends.instances(kind) if kind.warm else ():
                served = tuple(m for m in self.models if kind.serves(instance, m))
                if instance.health.healthy and served:
                    jobs.append(_Job(kind, instance, served))
        return jobs

    def _unready(self) -> bool:
        """Is an instance that would warm something not healthy (so nothing could be)?"""
        return any(
            not instance.health.healthy
            for kind in KINDS.values()
            if kind.warm
            for instance in self.backends.instances(kind)
        )

    async def _run(self, jobs: list[_Job]) -> None:
        try:
            await asyncio.gather(*(self._warm_instance(job) for job in jobs))
        except Exception:  # a bug, not a backend's failure (those are counted): say so
            log.exception("warm_up_crashed")
            self._failed = max(self._failed, 1)
        self._state = "failed" if self._failed else "done"
        self._finished = self._clock()
        log.info("warm_up_finished", loaded=self._done - self._failed, failed=self._failed)

    async def _warm_instance(self, job: _Job) -> None:
        assert job.kind.warm is not None  # only such kinds get jobs
        for model in job.models:
            loaded = await job.kind.warm(job.instance, [model], self.timeout)
            if isinstance(loaded, list) and model in loaded:
                self._warm.add((job.instance.pool, model))
            else:
                self._failed += 1
            self._done += 1


def kind_state(instances: Sequence[Instance]) -> KindState:
    states = {instance.health.state for instance in instances}
    for state, word in _STATE_ORDER:
        if state in states:
            return word
    return "missing"


def readiness(backends: Backends, warm_up: WarmUp | None) -> list[KindReadiness]:
    """Every kind of backend, in the kind table's order."""
    return [_kind(kind, backends.instances(kind), warm_up) for kind in KINDS.values()]


def _kind(
    kind: KindFacts[Any, Any], instances: Sequence[Instance], warm_up: WarmUp | None
) -> KindReadiness:
    models = None
    if kind.warm is not None:
        pipeline_models = warm_up.models if warm_up is not None else ()
        models = [
            (m, warm_up is not None and any(warm_up.is_warm(i, m) for i in instances))
            for m in pipeline_models
            if any(kind.serves(i, m) for i in instances)
        ]
    return KindReadiness(
        kind=kind.kind,
        state=kind_state(instances),
        instances=len(instances),
        healthy=sum(1 for i in instances if i.health.healthy),
        startable=any(i.launcher is not None for i in instances),
        models=models,
    )
