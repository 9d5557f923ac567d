"""Every configured backend instance, watched and healed, and the choice of one for a piece of
work.

Each instance is one scheduler pool (`llm:<name>` / `comfyui:<name>`), so a run waits in the
line of the instance chosen for it. `acquire_*` picks the least-loaded usable instance that has
what the work needs (`routing`); when none is usable it takes a fresh look, then starts one
that has a start command (`launcher`), or fails with the state of each candidate. Stages
report how their work went (`succeeded` / `failed`), which feeds the health state and each
instance's circuit breaker. Every state change goes to the subscribed listeners (wiring turns
them into `backend` events for the sessions waiting on that kind of backend).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import structlog

from server.engine.backends.checks import HealthChecks, paused
from server.engine.backends.config import ComfyUIBackendConfig, LifecycleSettings, LLMBackendConfig
from server.engine.backends.health import (
    HealthChange,
    instance_fault,
    state_after_failure,
)
from server.engine.backends.instances import ComfyUIInstance, HealthListener, Instance, LLMInstance
from server.engine.backends.routing import ImageNeeds, describe_states, least_loaded
from server.engine.backends.status import describe, note
from server.engine.backends.warmup import warm_up
from server.engine.errors import BackendError, BackendPaused, BackendUnavailable, ModelNotFound
from server.engine.scheduler import PoolSettings
from server.protocol import BackendState

log = structlog.get_logger(__name__)

#: The scheduler's view of a pool's load: (running + waiting) / slots.
LoadOf = Callable[[str], float]
InstanceT = TypeVar("InstanceT", bound=Instance)

__all__ = ["Backends", "ComfyUIInstance", "ImageNeeds", "Instance", "LLMInstance", "LoadOf"]


class Backends:
    def __init__(
        self,
        llm: Sequence[LLMBackendConfig],
        comfyui: Sequence[ComfyUIBackendConfig],
        lifecycle: LifecycleSettings | None = None,
    ) -> None:
        self.lifecycle = lifecycle or LifecycleSettings()
        self._listeners: list[HealthListener] = []
        self.llm = [LLMInstance(c, self.lifecycle, self._changed) for c in llm]
        self.comfyui = [ComfyUIInstance(c, self.lifecycle, self._changed) for c in comfyui]
        self._health = HealthChecks(self.lifecycle)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.failures = 0  # pieces of work that failed on an instance
        self.retries = 0  # stages retried on another instance after such a failure

    def instances(self) -> list[Instance]:
        return [*self.llm, *self.comfyui]

    def pools(self) -> tuple[PoolSettings, ...]:
        return tuple(PoolSettings(name=i.pool, slots=i.slots) for i in self.instances())

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

    async def start(self, warm_models: Sequence[str] = ()) -> None:
        """Open the clients, check every instance once, then keep checking in the background."""
        for instance in self.instances():
            await instance.start_client()
        await asyncio.gather(*(self.check(i) for i in self.instances()))
        self._spawn(self._health.monitor(self.instances))
        if self.lifecycle.warm_up and warm_models:
            for llm in self.llm:
                if llm.health.healthy:
                    self._spawn(warm_up(llm, warm_models, self.lifecycle.warm_up_timeout))

    async def close(self) -> None:
        tasks = [*self._tasks, *self._health.tasks()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for instance in self.instances():
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

    def llm_candidates(
        self, model: str, exclude: frozenset[str] = frozenset()
    ) -> list[LLMInstance]:
        """The instances that serve `model`; raises when there are none at all."""
        if not self.llm:
            raise BackendUnavailable("no LLM server is configured", backend="llm", instance="-")
        candidates = [i for i in self.llm if i.serves(model) and i.name not in exclude]
        if not candidates and not any(i.serves(model) for i in self.llm):
            raise ModelNotFound(
                f"no LLM server has the model {model!r}", backend="llm", instance="-"
            )
        return candidates

    def comfyui_candidates(
        self, needs: ImageNeeds, exclude: frozenset[str] = frozenset()
    ) -> list[ComfyUIInstance]:
        if not self.comfyui:
            raise BackendUnavailable(
                "no image server is configured", backend="comfyui", instance="-"
            )
        candidates = [i for i in self.comfyui if i.has(needs) and i.name not in exclude]
        if not candidates and not any(i.has(needs) for i in self.comfyui):
            files = ", ".join(sorted(needs.models))
            raise ModelNotFound(
                f"no image server has the model file {files}", backend="comfyui", instance="-"
            )
        return candidates

    def choose_llm(
        self, model: str, load: LoadOf, exclude: frozenset[str] = frozenset()
    ) -> LLMInstance | None:
        return least_loaded(self.llm_candidates(model, exclude), load)

    def choose_comfyui(
        self, needs: ImageNeeds, load: LoadOf, exclude: frozenset[str] = frozenset()
    ) -> ComfyUIInstance | None:
        candidates = self.comfyui_candidates(needs, exclude)
        return least_loaded(candidates, load, lambda i: (i.missing(needs),))

    async def acquire_llm(
        self, model: str, load: LoadOf, exclude: frozenset[str] = frozenset()
    ) -> LLMInstance:
        """A usable instance for `model`, started if need be; BackendUnavailable otherwise."""
        candidates = self.llm_candidates(model, exclude)
        what = f"language model server with {model!r}"
        pick = lambda: self.choose_llm(model, load, exclude)  # noqa: E731
        return await self._acquire("llm", candidates, pick, what)

    async def acquire_comfyui(
        self, needs: ImageNeeds, load: LoadOf, exclude: frozenset[str] = frozenset()
    ) -> ComfyUIInstance:
        candidates = self.comfyui_candidates(needs, exclude)
        pick = lambda: self.choose_comfyui(needs, load, exclude)  # noqa: E731
        return await self._acquire("comfyui", candidates, pick, "image server")

    async def _acquire(
        self,
        kind: str,
        candidates: list[InstanceT],
        pick: Callable[[], InstanceT | None],
        what: str,
    ) -> InstanceT:
        chosen = pick() or await self._recover(candidates, pick)
        if chosen is None:
            states = [(i.name, i.health.state.value, note(i)) for i in candidates]
            detail = describe_states(states) if states else "none left to try"
            raise BackendUnavailable(
                f"no {what} is available: {detail}", backend=kind, instance="-"
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

    def ready(self) -> dict[str, bool]:
        """Per kind: is at least one instance healthy, starting or startable?"""

        def ok(instances: Sequence[Instance]) -> bool:
            return any(i.usable() or i.is_starting() or i.startable() for i in instances)

        return {"llm": ok(self.llm), "comfyui": ok(self.comfyui)}

    def status(self) -> list[dict[str, Any]]:
        return [describe(i) for i in self.instances()]

    @property
    def open_responses(self) -> int:
        return sum(i.open_responses for i in self.instances())
