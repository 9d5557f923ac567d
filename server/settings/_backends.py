"""Settings of the backends: instances by kind, health, breaker, warm-up, demo mode."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from server.engine.backends.config import BackendConfig, ComfyUIBackendConfig, LLMBackendConfig
from server.engine.backends.kinds import KINDS
from server.protocol import BackendKind


class BackendFields(BaseModel):
    """The backend instances and how their lifecycle is run."""

    llm: list[LLMBackendConfig] = Field(
        default_factory=list, description="LLM servers (JSON list; TOML [[llm]] tables)"
    )
    llm_url: str | None = Field(None, description="shortcut: one Ollama server at this URL")
    comfyui: list[ComfyUIBackendConfig] = Field(
        default_factory=list, description="ComfyUI instances (JSON list; TOML [[comfyui]])"
    )
    comfyui_url: str | None = Field(None, description="shortcut: one ComfyUI at this URL")
    health_interval: float = Field(
        10.0, gt=0, le=3600, description="seconds between two health checks of each backend"
    )
    health_timeout: float = Field(
        5.0, gt=0, le=120, description="a backend health check slower than this fails"
    )
    breaker_failures: int = Field(
        3, ge=1, le=1000, description="failures in a row that stop work going to a backend"
    )
    breaker_cooldown: float = Field(
        30.0, gt=0, le=86_400, description="seconds before such a backend gets one trial again"
    )
    warm_up: bool = Field(False, description="load the LLM models on every LLM server at start")
    warm_up_timeout: float = Field(
        300.0, gt=0, le=3600, description="longest wait for one model to load during warm-up"
    )
    demo: Literal["auto", "on", "off"] = Field(
        "auto", description="built-in simulators: auto = when no backend is configured"
    )

    def backends(self, kind: BackendKind) -> list[BackendConfig]:
        """The instances of `kind` configured: its list setting, else its one-URL shortcut
        (both named by the kind's row in `server.engine.backends.kinds`)."""
        row = KINDS[kind]
        listed: list[BackendConfig] = getattr(self, row.setting)
        url: str | None = getattr(self, row.url_setting)
        if listed or not url:
            return list(listed)
        return [row.config(name=row.url_instance, url=url)]

    def uses_demo(self) -> bool:
        if self.demo == "auto":
            return not any(self.backends(kind) for kind in KINDS)
        return self.demo == "on"
