"""Every configured backend instance, watched and healed, and the choice of one for a piece of
work.

Instances are built from configs keyed by kind; what differs between kinds is a row of the
kind table (`kinds`), which every method here takes as its `kind`. Each instance is one
scheduler pool (`<kind>:<name>`), so a run waits in the line of the instance chosen for it.
`acquire` picks the least-loaded usable instance that serves what the work needs; when none is
usable it takes a fresh look, then starts one that has a start command (`launcher`), or fails
with the state of each candidate. Stages report how their work went (`succeeded` / `failed`),
which feeds the health state and each instance's circuit breaker. Every state change goes to
the subscribed listeners (wiring turns them into `backend` events for the sessions waiting on
that kind of backend).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import structlog

from server.engine.backends.checks import HealthChecks, paused
from server.engine.backends.config import BackendConfigs, LifecycleSettings
from server.engine.backends.health import (
    HealthChange,
    instance_fault,
    state_after_failure,
)
from server.engine.backends.instances import ComfyUIInstance, HealthListener, Instance, LLMInstance
from server.engine.backends.kinds import KINDS, KindFacts
from server.engine.backends.routing import ImageNeeds, describe_states, least_loaded
from server.engine.backends.status import InstanceStatus, describe, note
from server.engine.errors import BackendError, BackendPaused, BackendUnavailable, ModelNotFound
from server.engine.scheduler import PoolSettings
from server.protocol import BackendKind, BackendState

log = structlog.get_logger(__name__)

#: The scheduler's view of a pool's load: (running + waiting) / slots.
LoadOf = Callable[[str], float]
InstanceT = TypeVar("InstanceT", bound=Instance)
NeedT = TypeVar("NeedT")

__all__ = [
    "BackendConfigs",
    "Backends",
    "ComfyUIInstance",
    "ImageNeeds",
    "Instance",
    "LLMInstance",
    "LoadOf",
]


class Backends:
    def __init__(self, configs: BackendConfigs, lifecycle: LifecycleSettings | None = None) -> None:
        self.lifecycle = lifecycle or LifecycleSettings()
        self._listeners: list[HealthListener] = []
        self._by_kind: dict[BackendKind, list[Instance]] = {
            kind: [row.build(c, self.lifecycle, self._changed) for c in configs.get(kind, ())]
            for kind, row in KINDS.items()
        }
        self._health = HealthChecks(self.lifecycle)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.failures = 0  # pieces of work that failed on an instance
        self.retries = 0  # stages retried on another instance after such a failure

    def instances(self, kind: KindFacts[InstanceT, Any]) -> list[InstanceT]:
        """The instances of `kind`, in configured order."""
        return [i for i in self._by_kind[kind.kind] if isinstance(i, kind.instance)]

    def all_instances(self) -> list[Instance]:
        """Every instance, kind by kind in the kind table's order."""
        return [i for instances in self._by_kind.values() for i in instances]

    def pools(self) -> tuple[PoolSettings, ...]:
        return tuple(PoolSettings(name=i.pool, slots=i.slots) for i in self.all_instances())

    # -- lifecycle -----------------------------------------------------------------------

    def subscribe(self, listener: HealthListener) -> None:
        """Call `listener` with every state change of every instance."""
        self._listeners.append(listener)

    def _changed(self, change: HealthChange) -> None:
        log.info(
            "backend_state",
            kind=change.kind,
            instance=change.instance,
            state=change.state.value,
            message=change.message,
        )
        for listener in self._listeners:
            try:
                listener(change)
            except Exception:
                log.exception("backend_listener_failed", instance=change.instance)

    async def start(self) -> None:
        """Open the clients, check every instance once, then keep checking in the background.
        (Loading the models ahead is `classroom/readiness.py`'s `WarmUp`.)"""
        for instance in self.all_instances():
            await instance.start_client()
        await asyncio.gather(*(self.check(i) for i in self.all_instances()))
        self._spawn(self._health.monitor(self.all_instances))

    async def close(self) -> None:
        tasks = [*self._tasks, *self._health.tasks()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for instance in self.all_instances():
            await instance.close()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def check(self, instance: Instance) -> None:
        """One health check; callers at the same moment share it."""
        await self._health.check(instance)

    # -- outcomes ------------------------------------------------------------------------

    def succeeded(self, instance: Instance) -> None:
        instance.breaker.succeeded()

    def abandoned(self, instance: Instance) -> None:
        """The work ended without saying anything about the instance (cancelled, too slow)."""
        instance.breaker.abandoned()

    def failed(self, instance: Instance, exc: BackendError) -> None:
        """Work failed on `instance`: count it, mark it, and take a fresh look at it now."""
        if not instance_fault(exc):
            instance.breaker.abandoned()
            return
        self.failures += 1
        opened = instance.breaker.failed()
        if opened:
            log.warning(
                "backend_breaker_open", instance=instance.pool, failures=instance.breaker.failures
            )
        state = state_after_failure(exc)
        if state is BackendState.DOWN and not instance.is_starting():
            instance.health.move(BackendState.DOWN, exc.message, cause=type(exc))
        elif opened and instance.health.healthy:
            instance.health.move(BackendState.UNHEALTHY, paused(instance), cause=BackendPaused)
        if state is not BackendState.DOWN:
            self._spawn(self.check(instance))

    # -- choosing ------------------------------------------------------------------------

    def candidates(
        self, kind: KindFacts[InstanceT, NeedT], need: NeedT, exclude: frozenset[str] = frozenset()
    ) -> list[InstanceT]:
        """The instances of `kind` that serve `need`, but those named in `exclude`; raises when
        no instance of the kind is configured, or none of them serves it at all."""
        instances = self.instances(kind)
        if not instances:
            raise BackendUnavailable(
                f"no {kind.server} is configured", backend=kind.kind, instance="-"
            )
        serving = [i for i in instances if kind.serves(i, need)]
        if not serving:
            raise ModelNotFound(
                f"no {kind.server} has {kind.lacking(need)}", backend=kind.kind, instance="-"
            )
        return [i for i in serving if i.name not in exclude]

    def choose(
        self,
        kind: KindFacts[InstanceT, NeedT],
        need: NeedT,
        load: LoadOf,
        exclude: frozenset[str] = frozenset(),
    ) -> InstanceT | None:
        """The usable candidate it prefers, least loaded first; None when none is usable."""
        candidates = self.candidates(kind, need, exclude)
        return least_loaded(candidates, load, lambda i: kind.rank(i, need))

    async def acquire(
        self,
        kind: KindFacts[InstanceT, NeedT],
        need: NeedT,
        load: LoadOf,
        exclude: frozenset[str] = frozenset(),
    ) -> InstanceT:
        """A usable instance for `need`, started if need be; BackendUnavailable otherwise."""
        candidates = self.candidates(kind, need, exclude)
        pick = functools.partial(self.choose, kind, need, load, exclude)
        chosen = pick() or await self._recover(candidates, pick)
        if chosen is None:
            states = [(i.name, i.health.state.value, note(i)) for i in candidates]
            detail = describe_states(states) if states else "none left to try"
            raise BackendUnavailable(
                f"no {kind.wanted(need)} is available: {detail}", backend=kind.kind, instance="-"
            )
        chosen.breaker.begin()
        return chosen

    async def _recover(
        self, candidates: list[InstanceT], pick: Callable[[], InstanceT | None]
    ) -> InstanceT | None:
        """Nothing usable: look again, else start one (or join the start in progress)."""
        starting = [i for i in candidates if i.is_starting()]
        if not starting:
            await asyncio.gather(*(self.check(i) for i in candidates if not i.usable()))
            chosen = pick()
            if chosen is not None:
                return chosen
            starting = [i for i in candidates if i.startable()]
        if not starting:
            return None
        launcher = starting[0].launcher
        assert launcher is not None
        await launcher.ensure_started()
        return pick()

    # -- reporting -----------------------------------------------------------------------

    def ready(self) -> dict[BackendKind, bool]:
        """Per kind: is at least one instance healthy, starting or startable?"""

        def ok(instances: Sequence[Instance]) -> bool:
            return any(i.usable() or i.is_starting() or i.startable() for i in instances)

        return {kind: ok(instances) for kind, instances in self._by_kind.items()}

    def status(self) -> list[InstanceStatus]:
        return [describe(i) for i in self.all_instances()]

    @property
    def open_responses(self) -> int:
        return sum(i.open_responses for i in self.all_instances())
