"""Every configured backend instance with its client, and the choice of one for a piece of work.

Each instance is one scheduler pool (named `llm:<name>` or `comfyui:<name>`), so a run waits
in the line of the instance chosen for it. The choice is the least-loaded instance that has
what the work needs, where load is (running + waiting) / slots as the scheduler reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig, same_model
from server.engine.comfyui.client import ComfyUIClient
from server.engine.errors import BackendUnavailable, ModelNotFound
from server.engine.llm import BaseLLMClient, create_llm_client
from server.engine.scheduler import PoolSettings

log = structlog.get_logger(__name__)

#: The scheduler's view of a pool's load: (running + waiting) / slots.
LoadOf = Callable[[str], float]


@dataclass(slots=True)
class LLMInstance:
    config: LLMBackendConfig
    client: BaseLLMClient
    models: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def pool(self) -> str:
        return "llm:" + self.config.name

    def serves(self, model: str) -> bool:
        return not self.models or any(same_model(model, m) for m in self.models)


@dataclass(slots=True)
class ComfyUIInstance:
    config: ComfyUIBackendConfig
    client: ComfyUIClient
    loras: frozenset[str] = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def pool(self) -> str:
        return "comfyui:" + self.config.name


class Backends:
    def __init__(self, llm: list[LLMBackendConfig], comfyui: list[ComfyUIBackendConfig]) -> None:
        self.llm = [LLMInstance(c, create_llm_client(c), c.models) for c in llm]
        self.comfyui = [ComfyUIInstance(c, ComfyUIClient(c)) for c in comfyui]

    def pools(self) -> tuple[PoolSettings, ...]:
        llm = [PoolSettings(name=i.pool, slots=i.config.slots) for i in self.llm]
        comfy = [PoolSettings(name=i.pool, slots=i.config.slots) for i in self.comfyui]
        return (*llm, *comfy)

    async def start(self) -> None:
        for llm in self.llm:
            await llm.client.start()
            if not llm.models:
                await self._discover_models(llm)
        for comfy in self.comfyui:
            await comfy.client.start()
            await self._discover_loras(comfy)

    async def _discover_models(self, instance: LLMInstance) -> None:
        try:
            instance.models = tuple(await instance.client.list_models())
        except Exception as exc:  # an instance that is down serves nothing until it is back
            log.warning("llm_models_unknown", instance=instance.name, error=str(exc))

    async def _discover_loras(self, instance: ComfyUIInstance) -> None:
        try:
            instance.loras = frozenset((await instance.client.capabilities()).loras)
        except Exception as exc:
            log.warning("comfyui_capabilities_unknown", instance=instance.name, error=str(exc))

    async def close(self) -> None:
        for llm in self.llm:
            await llm.client.close()
        for comfy in self.comfyui:
            await comfy.client.close()

    def choose_llm(self, model: str, load: LoadOf) -> LLMInstance:
        candidates = [i for i in self.llm if i.serves(model)]
        if not candidates:
            if not self.llm:
                raise BackendUnavailable("no LLM server is configured", backend="llm", instance="-")
            raise ModelNotFound(
                f"no LLM server has the model {model!r}", backend="llm", instance="-"
            )
        return min(candidates, key=lambda i: load(i.pool))

    def choose_comfyui(self, load: LoadOf) -> ComfyUIInstance:
        if not self.comfyui:
            raise BackendUnavailable(
                "no image server is configured", backend="comfyui", instance="-"
            )
        return min(self.comfyui, key=lambda i: load(i.pool))

    @property
    def open_responses(self) -> int:
        llm = sum(i.client.open_responses for i in self.llm)
        return llm + sum(i.client.open_responses for i in self.comfyui)
