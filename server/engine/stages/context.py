"""What every stage works with: its run, the run's scheduler ticket, and the shared services.

LLM work always goes through `stream_llm` / `ask_llm`: choose an instance, wait for a slot in
its pool (the run sees its queue position), then talk to it under the stage's time bound.
Nothing reaches a backend without holding a slot, so the backends never see more work than
they have slots for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server.engine.backends.registry import Backends
from server.engine.catalog import Catalog, SafetyLevel
from server.engine.errors import AtelierError, BackendTimeout
from server.engine.llm import ChatMessage, ChatRequest
from server.engine.records import RecordStore
from server.engine.run import Run
from server.engine.scheduler import RunTicket, Scheduler
from server.engine.workflows.catalog import Workflow
from server.protocol import StageName, StageStatus


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """The pipeline's settings (the server's `Settings` hand these over)."""

    safety_level: SafetyLevel
    model_safety: str
    model_interception: str
    model_translation: str
    llm_stage_timeout: float
    generation_timeout: float
    max_prompt_chars: int
    max_meta_prompt_chars: int


@dataclass(slots=True)
class Services:
    """Shared, long-lived parts every run uses; none of them holds per-run state."""

    config: PipelineConfig
    catalog: Catalog
    workflows: dict[str, Workflow]
    backends: Backends
    scheduler: Scheduler
    records: RecordStore


class Blocked(AtelierError):
    """A safety check said no. `reason` is for the student, in the run's language."""

    code = "blocked"

    def __init__(self, reason: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or {}


@dataclass(slots=True)
class StageResult:
    status: StageStatus = StageStatus.DONE
    text: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class StageContext:
    run: Run
    ticket: RunTicket
    services: Services

    @property
    def config(self) -> PipelineConfig:
        return self.services.config

    def load(self, pool: str) -> float:
        pools = self.services.scheduler.snapshot().pools
        snap = pools.get(pool)
        return 0.0 if snap is None else (snap.running + snap.waiting) / snap.slots

    def request(self, model: str, system: str, user: str, **params: Any) -> ChatRequest:
        messages = (
            ChatMessage(role="system", content=system),
            ChatMessage(role="user", content=user),
        )
        return ChatRequest(model=model, messages=messages, **params)

    async def stream_llm(
        self, stage: StageName, request: ChatRequest, on_text: Callable[[str], None]
    ) -> str:
        """Stream a completion for `stage`, passing each piece of text to `on_text`."""
        instance = self.services.backends.choose_llm(request.model, self.load)
        async with self.ticket.slot(instance.pool, stage.value):
            self.run.models[stage.value] = f"{request.model}@{instance.name}"
            try:
                async with asyncio.timeout(self.config.llm_stage_timeout):
                    async with instance.client.stream_chat(request) as stream:
                        async for text in stream:
                            on_text(text)
                    return stream.result.text
            except TimeoutError:
                limit = self.config.llm_stage_timeout
                raise BackendTimeout(
                    f"the language model did not finish within {limit:.0f} s",
                    backend="llm",
                    instance=instance.name,
                ) from None

    async def ask_llm(self, stage: StageName, request: ChatRequest) -> str:
        """A short, non-streamed answer (safety verdicts)."""
        return await self.stream_llm(stage, request, lambda _: None)
