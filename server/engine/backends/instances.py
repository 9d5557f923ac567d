"""One backend instance: its client, health, circuit breaker and (optional) launcher.

`probe()` is the cheap check (Ollama `/api/version`, OpenAI `/v1/models`, ComfyUI
`/system_stats`) and raises the client's BackendError; `refresh()` re-reads what the instance
serves (models, or ComfyUI's model files) after it comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar, Protocol

import structlog

from server.engine.backends.breaker import CircuitBreaker
from server.engine.backends.config import (
    BackendConfig,
    ComfyUIBackendConfig,
    LifecycleSettings,
    LLMBackendConfig,
    same_model,
)
from server.engine.backends.health import HealthChange, InstanceHealth
from server.engine.backends.launcher import Launcher
from server.engine.backends.routing import (
    ImageNeeds,
    available_loras,
    has_models,
    missing_loras,
)
from server.engine.comfyui.client import ComfyUIClient
from server.engine.comfyui.results import Capabilities
from server.engine.errors import BackendError, BackendTimeout, BackendUnavailable
from server.engine.llm import BaseLLMClient, create_llm_client
from server.protocol import BackendKind

log = structlog.get_logger(__name__)

HealthListener = Callable[[HealthChange], None]


class BackendClient(Protocol):
    """What an instance needs of its client, whichever kind it is."""

    @property
    def open_responses(self) -> int: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class Instance:
    """What every kind of instance shares; subclasses bring the client."""

    kind: ClassVar[BackendKind]
    client: BackendClient

    def __init__(
        self, config: BackendConfig, lifecycle: LifecycleSettings, on_change: HealthListener
    ) -> None:
        self.name = config.name
        self.slots = config.slots
        self.health = InstanceHealth(self.kind, self.name, on_change)
        self.breaker = CircuitBreaker(lifecycle.breaker_failures, lifecycle.breaker_cooldown)
        self.health_timeout = lifecycle.health_timeout
        self.launcher: Launcher | None = None
        if config.start_command:
            log_file = config.log_file or lifecycle.log_dir / f"{self.kind}-{self.name}.log"
            self.launcher = Launcher(
                config,
                self.health,
                self.ready_check,
                log_file=log_file,
                poll=lifecycle.ready_poll,
                stop_timeout=lifecycle.stop_timeout,
            )

    @property
    def pool(self) -> str:
        return f"{self.kind}:{self.name}"

    def usable(self) -> bool:
        return self.health.healthy and self.breaker.allows()

    def startable(self) -> bool:
        return self.launcher is not None and self.launcher.can_start()

    def is_starting(self) -> bool:
        return self.launcher is not None and self.launcher.starting

    async def probe(self) -> None:
        """The health check, bounded by `health_timeout`; raises BackendError."""
        try:
            async with asyncio.timeout(self.health_timeout):
                await self._check()
        except TimeoutError as exc:
            raise BackendTimeout(
                f"no answer to the health check within {self.health_timeout:.0f} s",
                backend=self.kind,
                instance=self.name,
                cause=exc,
            ) from exc

    async def _check(self) -> None:
        raise NotImplementedError

    def since_delivery(self) -> float | None:
        """Seconds since its work last delivered something (None: unknown), which proves it
        alive when a check is slow; kinds that cannot tell leave it None."""
        return None

    async def reach(self) -> None:
        """The check while its work proves it alive: only whether it can be reached."""
        await self.probe()

    async def ready_check(self) -> None:
        """The probe, then a fresh look at what it serves (a started instance is new)."""
        await self.probe()
        await self.refresh()

    async def refresh(self) -> None:
        """Re-read what the instance serves; a failure keeps what was known."""

    def models_listed(self) -> tuple[str, ...] | None:
        """The models it serves, for `/api/status`; None for a kind that lists none there."""
        return None

    @property
    def open_responses(self) -> int:
        return self.client.open_responses

    async def start_client(self) -> None:
        await self.client.start()

    async def close(self) -> None:
        if self.launcher is not None:
            await self.launcher.close()
        await self.client.close()


class LLMInstance(Instance):
    kind = BackendKind.LLM

    def __init__(
        self, config: LLMBackendConfig, lifecycle: LifecycleSettings, on_change: HealthListener
    ) -> None:
        super().__init__(config, lifecycle, on_change)
        self.config = config
        self.client: BaseLLMClient = create_llm_client(config)
        self.models: tuple[str, ...] = config.models

    def serves(self, model: str) -> bool:
        return not self.models or any(same_model(model, m) for m in self.models)

    def models_listed(self) -> tuple[str, ...]:
        return self.models

    async def _check(self) -> None:
        await self.client.version()

    def since_delivery(self) -> float | None:
        """0 while a request of ours waits for its first token: the server is evaluating a
        prompt (each such wait is bounded by `first_token_timeout`); else since the last token."""
        if self.client.awaiting_first_token:
            return 0.0
        last = self.client.last_delivery
        return None if last is None else asyncio.get_running_loop().time() - last

    async def reach(self) -> None:
        await self.client.reachable(self.health_timeout)

    async def refresh(self) -> None:
        if self.config.models:
            return
        try:
            self.models = tuple(await self.client.list_models())
        except BackendError as exc:
            log.warning("llm_models_unknown", instance=self.name, error=str(exc))


class ComfyUIInstance(Instance):
    kind = BackendKind.COMFYUI

    def __init__(
        self,
        config: ComfyUIBackendConfig,
        lifecycle: LifecycleSettings,
        on_change: HealthListener,
    ) -> None:
        super().__init__(config, lifecycle, on_change)
        self.config = config
        self.client: ComfyUIClient = ComfyUIClient(config)
        self.capabilities: Capabilities | None = None

    @property
    def loras(self) -> frozenset[str] | None:
        """The LoRAs it lists (maybe none); None while nobody knows."""
        return available_loras(self.capabilities)

    async def ensure_capabilities(self) -> None:
        """Ask for what it serves if that is unknown (its last answer failed), bounded by
        `health_timeout`; still unknown afterwards means its LoRAs count as absent."""
        if self.capabilities is not None:
            return
        try:
            async with asyncio.timeout(self.health_timeout):
                await self.refresh()
        except TimeoutError:
            log.warning("comfyui_capabilities_unknown", instance=self.name, error="timed out")

    def has(self, needs: ImageNeeds) -> bool:
        return has_models(self.capabilities, needs)

    def missing(self, needs: ImageNeeds) -> int:
        return missing_loras(self.capabilities, needs)

    async def _check(self) -> None:
        await self.client.system_stats()

    async def ready_check(self) -> None:
        """A started ComfyUI is ready once our WebSocket is back too: prompts are submitted
        only over a connected socket (its reconnect backs off while the instance was down)."""
        await self.probe()
        if not self.client.connected:
            raise BackendUnavailable(
                "the WebSocket is not connected yet", backend=self.kind, instance=self.name
            )
        await self.refresh()

    async def refresh(self) -> None:
        try:
            self.capabilities = await self.client.capabilities()
        except BackendError as exc:
            log.warning("comfyui_capabilities_unknown", instance=self.name, error=str(exc))
