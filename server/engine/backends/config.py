"""Settings of one backend instance as the operator writes them (TOML `[[llm]]`/`[[comfyui]]`)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from server.engine.comfyui.config import ComfyUIConfig
from server.engine.llm.types import LLMInstanceConfig


class LLMBackendConfig(LLMInstanceConfig):
    """An LLM server: its client settings plus how much work it takes and which models."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Generations it runs at once (Ollama's OLLAMA_NUM_PARALLEL); more wait in our queue.
    slots: int = Field(default=1, ge=1, le=64)
    #: Models it serves; empty means "whatever it has" (asked at start-up).
    models: tuple[str, ...] = ()


class ComfyUIBackendConfig(ComfyUIConfig):
    """A ComfyUI instance: it renders one prompt at a time, so it has one slot."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slots: int = Field(default=1, ge=1, le=8)


def same_model(a: str, b: str) -> bool:
    """Ollama lists `llama3.2:latest` for a request that says `llama3.2`."""
    return a.removesuffix(":latest") == b.removesuffix(":latest")
