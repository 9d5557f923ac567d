"""What every stage works with: its run, the run's scheduler ticket, and the shared services.

LLM work always goes through `stream_llm` / `ask_llm`: acquire a usable instance (started on
demand), wait for a slot in its pool (the run sees its queue position), then talk to it under
the stage's time bound. Nothing reaches a backend without holding a slot, so the backends
never see more work than they have slots for. While a stage needs a kind of backend, its
session receives that kind's `backend` events. When the instance stops answering mid-stream,
the stage starts again once, from the beginning, on another instance, and the client is told
to clear the text it has shown so far.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from server.engine.backends.health import worth_retrying
from server.engine.backends.instances import Instance, LLMInstance
from server.engine.backends.notify import WaitingSessions
from server.engine.backends.registry import Backends
from server.engine.catalog import Catalog, SafetyLevel
from server.engine.errors import AtelierError, BackendError, BackendTimeout, BackendUnavailable
from server.engine.llm import ChatMessage, ChatRequest
from server.engine.records import RecordStore
from server.engine.run import Run
from server.engine.scheduler import RunTicket, Scheduler
from server.engine.workflows.catalog import Workflow
from server.protocol import RunEndCode, StageName, StageStatus

log = structlog.get_logger(__name__)


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
    waiting: WaitingSessions = field(default_factory=WaitingSessions)


class Blocked(AtelierError):
    """A safety check said no. `reason` is for the student, in the run's language."""

    code = RunEndCode.BLOCKED

    def __init__(self, reason: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or {}


class StageTimeout(BackendTimeout):
    """The stage's own bound passed: the instance is slow, not gone; no retry elsewhere."""

    retryable = False

    def __init__(self, *, backend: str, instance: str, limit: float) -> None:
        server = "image server" if backend == "comfyui" else "language model"
        super().__init__(
            f"the {server} did not finish within {limit:.0f} s", backend=backend, instance=instance
        )
        self.limit = limit


@dataclass(slots=True)
class StageResult:
    status: StageStatus = StageStatus.DONE
    text: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def no_other_instance(first: BackendError, second: BackendError) -> BackendUnavailable:
    """The message when the retry found nowhere to go: what failed, and why nothing else."""
    return BackendUnavailable(
        f"{first.instance} stopped answering ({first.message}) and no other server could take "
        f"over ({second.message})",
        backend=first.backend,
        instance=first.instance,
        cause=first,
    )


def report_outcome(backends: Backends, instance: Instance, exc: BaseException | None) -> None:
    """Tell the registry how a piece of work on `instance` went."""
    if exc is None:
        backends.succeeded(instance)
    elif isinstance(exc, BackendError) and not isinstance(exc, StageTimeout):
        backends.failed(instance, exc)
    else:
        backends.abandoned(instance)


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
        return await self._complete(stage, request, on_text, visible=True)

    async def ask_llm(self, stage: StageName, request: ChatRequest) -> str:
        """A short, non-streamed answer (safety verdicts)."""
        return await self._complete(stage, request, lambda _: None, visible=False)

    async def _complete(
        self,
        stage: StageName,
        request: ChatRequest,
        on_text: Callable[[str], None],
        *,
        visible: bool,
    ) -> str:
        backends = self.services.backends
        with self.services.waiting.watch("llm", self.run.session):
            instance = await backends.acquire_llm(request.model, self.load)
            try:
                return await self._attempt(instance, stage, request, on_text)
            except BackendError as exc:
                if not worth_retrying(exc):
                    raise
                first = exc
            log.warning("llm_stage_retry", run=self.run.id, stage=stage, error=str(first))
            backends.retries += 1
            try:
                other = await backends.acquire_llm(
                    request.model, self.load, exclude=frozenset({instance.name})
                )
            except BackendError as exc:
                raise no_other_instance(first, exc) from first
            if visible:
                self.run.token(stage, "", clear=True)  # the new stream starts from nothing
            return await self._attempt(other, stage, request, on_text)

    async def _attempt(
        self,
        instance: LLMInstance,
        stage: StageName,
        request: ChatRequest,
        on_text: Callable[[str], None],
    ) -> str:
        failure: BaseException | None = None
        try:
            async with self.ticket.slot(instance.pool, stage.value):
                self.run.models[stage.value] = f"{request.model}@{instance.name}"
                return await self._stream(instance, request, on_text)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            report_outcome(self.services.backends, instance, failure)

    async def _stream(
        self, instance: LLMInstance, request: ChatRequest, on_text: Callable[[str], None]
    ) -> str:
        limit = self.config.llm_stage_timeout
        try:
            async with asyncio.timeout(limit):
                async with instance.client.stream_chat(request) as stream:
                    parts: list[str] = []
                    async for text in stream:
                        parts.append(text)
                        on_text(text)
                        if len(parts) >= request.max_tokens:
                            # A server that ignores the limit must not stream forever; leaving
                            # the block closes the response, which stops it generating.
                            log.warning("llm_answer_cut", run=self.run.id, tokens=len(parts))
                            return "".join(parts)
                return stream.result.text
        except TimeoutError:
            raise StageTimeout(backend="llm", instance=instance.name, limit=limit) from None
