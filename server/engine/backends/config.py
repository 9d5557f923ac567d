"""Settings of one backend instance as the operator writes them (TOML `[[llm]]`/`[[comfyui]]`),
and the lifecycle settings every instance shares (health checks, breaker, warm-up)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from server.engine.comfyui.config import ComfyUIConfig
from server.engine.llm.types import POOL_HEADROOM, LLMInstanceConfig
from server.protocol import BackendKind


class StartOptions(BaseModel):
    """How Atelier may start an instance itself when work needs it and it is down."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The program and its arguments (no shell). None: Atelier never starts this instance.
    start_command: tuple[str, ...] | None = None
    #: Working directory of the command (default: the server's own).
    workdir: Path | None = None
    #: Seconds from launch until the instance must answer its health check.
    ready_timeout: float = Field(default=120.0, gt=0, le=3600)
    #: Where the command's stdout and stderr go (default: <data_dir>/logs/<kind>-<name>.log).
    log_file: Path | None = None
    #: Least seconds between two launches of this instance (a crash loop must not spin).
    restart_min_interval: float = Field(default=30.0, ge=0, le=86_400)

    @property
    def startable(self) -> bool:
        return bool(self.start_command)


class LLMBackendConfig(LLMInstanceConfig, StartOptions):
    """An LLM server: its client settings plus how much work it takes and which models."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Generations it runs at once (Ollama's OLLAMA_NUM_PARALLEL); more wait in our queue.
    slots: int = Field(default=1, ge=1, le=64)
    #: Models it serves; empty means "whatever it has" (asked at start-up).
    models: tuple[str, ...] = ()

    @property
    def pool_size(self) -> int:
        return self.max_connections or self.slots + POOL_HEADROOM


class ComfyUIBackendConfig(ComfyUIConfig, StartOptions):
    """A ComfyUI instance: it renders one prompt at a time, so it has one slot."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slots: int = Field(default=1, ge=1, le=8)


#: The settings of one instance of any kind (each kind's row in `kinds` names its class).
BackendConfig = LLMBackendConfig | ComfyUIBackendConfig
#: The instances to run, by kind (a kind left out has none).
BackendConfigs = Mapping[BackendKind, Sequence[BackendConfig]]


class LifecycleSettings(BaseModel):
    """Health checks, the circuit breaker and warm-up, shared by every instance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Seconds between two health checks of an instance.
    health_interval: float = Field(default=10.0, gt=0, le=3600)
    #: Bound on one health check (a hung server counts as unhealthy).
    health_timeout: float = Field(default=5.0, gt=0, le=120)
    #: Seconds between two health checks while a started instance comes up.
    ready_poll: float = Field(default=0.25, gt=0, le=60)
    #: Failed pieces of work in a row that open an instance's circuit breaker.
    breaker_failures: int = Field(default=3, ge=1, le=1000)
    #: Seconds an open breaker keeps work away before one trial is let through.
    breaker_cooldown: float = Field(default=30.0, gt=0, le=86_400)
    #: Seconds a launched process gets to exit after SIGTERM at shutdown before SIGKILL.
    stop_timeout: float = Field(default=10.0, gt=0, le=600)
    #: Where launched processes write their output unless an instance names a log file.
    log_dir: Path = Path("data/logs")

    @property
    def proof_of_life(self) -> float:
        """How recent a delivered token must be to vouch for an instance whose health check
        was only slow: one check interval plus the check's own bound."""
        return self.health_interval + self.health_timeout


def same_model(a: str, b: str) -> bool:
    """Ollama lists `llama3.2:latest` for a request that says `llama3.2`."""
    return a.removesuffix(":latest") == b.removesuffix(":latest")
