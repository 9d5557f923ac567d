"""Health checks of the backend instances: the verdict of one check, one check at a time per
instance (callers at the same moment share it), and the loop that checks every instance every
`health_interval`.

An instance busy working for us is not asked over HTTP at all: llama-cpp-python answers
`/v1/models` only after the answer it is streaming (so the check would time out), and with
its default `interrupt_requests` a request waiting for its model lock cuts that answer short.
Busy means proof of life from our own work: a token within `LifecycleSettings.proof_of_life`
seconds, or a request still waiting for its first token. Such an instance only has to accept
a TCP connection; a refused one still counts at once. A check that began while the instance
was idle and timed out because work began meanwhile says nothing against it either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog

from server.engine.backends.breaker import BreakerState
from server.engine.backends.config import LifecycleSettings
from server.engine.backends.health import alive_by_work, state_after_failure
from server.engine.backends.instances import Instance
from server.engine.errors import BackendError, BackendPaused, BackendTimeout
from server.protocol import BackendState

log = structlog.get_logger(__name__)


def paused(instance: Instance) -> str:
    """The message of an instance whose breaker keeps work away."""
    wait = instance.breaker.retry_in() or 0.0
    failures = instance.breaker.failures
    return f"paused after {failures} failures in a row; next trial in {wait:.0f} s"


class HealthChecks:
    """Runs checks and moves each instance's health state by their verdicts."""

    def __init__(self, lifecycle: LifecycleSettings) -> None:
        self.lifecycle = lifecycle
        self._running: dict[str, asyncio.Task[None]] = {}

    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._running.values())

    async def monitor(self, instances: Callable[[], Sequence[Instance]]) -> None:
        while True:
            await asyncio.sleep(self.lifecycle.health_interval)
            await asyncio.gather(*(self.check(i) for i in instances()))

    async def check(self, instance: Instance) -> None:
        """One health check; callers at the same moment share it."""
        task = self._running.get(instance.pool)
        if task is None or task.done():
            task = asyncio.create_task(self._check(instance))
            self._running[instance.pool] = task
        await asyncio.shield(task)

    async def _check(self, instance: Instance) -> None:
        if instance.is_starting():  # the launcher owns the state until its attempt ends
            return
        try:
            busy = await self._probe(instance)
        except BackendError as exc:
            if not instance.is_starting():  # a start began while we asked: its verdict counts
                instance.health.move(state_after_failure(exc), exc.message, cause=type(exc))
            return
        if instance.is_starting():
            return
        if instance.breaker.state is BreakerState.OPEN:
            instance.health.move(BackendState.UNHEALTHY, paused(instance), cause=BackendPaused)
            return
        if not instance.health.healthy and not busy:
            await instance.refresh()  # it may have come back with other models
        instance.health.move(BackendState.HEALTHY)

    async def _probe(self, instance: Instance) -> bool:
        """Passed (False), or the instance is busy working for us and can be reached (True)."""
        if self._busy(instance):
            await instance.reach()
            return True
        try:
            await instance.probe()
        except BackendTimeout as exc:
            if not self._busy(instance):
                raise
            log.info("backend_check_slow_while_streaming", instance=instance.pool, error=str(exc))
            return True
        return False

    def _busy(self, instance: Instance) -> bool:
        return alive_by_work(instance.since_delivery(), self.lifecycle.proof_of_life)
