"""LLM text for the stages: a streamed completion (`stream_llm`) or a short answer (`ask_llm`).

Each goes through `failover` on an LLM instance that serves the request's model, under
`llm_stage_timeout` once it holds a slot. When the instance stops answering mid-stream, the
stage starts again once, from the beginning, on another instance, and the client is told to
clear the text it has shown so far.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import structlog

from server.engine.backends.instances import LLMInstance
from server.engine.backends.kinds import LLM
from server.engine.llm import ChatRequest
from server.engine.stages.context import StageContext
from server.engine.stages.failover import on_instance, with_failover
from server.protocol import StageName

log = structlog.get_logger(__name__)


async def stream_llm(
    ctx: StageContext,
    stage: StageName,
    request: ChatRequest,
    on_text: Callable[[str], None],
    on_restart: Callable[[], None] | None = None,
) -> str:
    """Stream a completion for `stage`, passing each piece of text to `on_text`; `on_restart`
    hears when a retry starts the answer again from nothing. An exception `on_text` raises
    ends the stream and closes the response (the word screen's block)."""
    return await complete(ctx, stage, request, on_text, visible=True, on_restart=on_restart)


async def ask_llm(ctx: StageContext, stage: StageName, request: ChatRequest) -> str:
    """A short, non-streamed answer (safety verdicts)."""
    return await complete(ctx, stage, request, lambda _: None, visible=False)


async def complete(
    ctx: StageContext,
    stage: StageName,
    request: ChatRequest,
    on_text: Callable[[str], None],
    *,
    visible: bool,
    on_restart: Callable[[], None] | None = None,
) -> str:
    async def attempt(instance: LLMInstance, retrying: bool) -> str:
        if retrying and visible:
            ctx.run.token(stage, "", clear=True)  # the new stream starts from nothing
        if retrying and on_restart is not None:
            on_restart()
        limit = ctx.config.llm_stage_timeout
        work = functools.partial(stream, ctx, instance, request, on_text)
        return await on_instance(ctx, instance, stage, request.model, limit, work)

    return await with_failover(
        ctx, LLM, request.model, stage, attempt, retry_event="llm_stage_retry"
    )


async def stream(
    ctx: StageContext, instance: LLMInstance, request: ChatRequest, on_text: Callable[[str], None]
) -> str:
    async with instance.client.stream_chat(request) as chat:
        parts: list[str] = []
        # The pieces of one read go on as one text: one screen check and one message for
        # what arrived together (docs/performance.md, "Relay cost").
        async for texts in chat.batches():
            taken = texts[: request.max_tokens - len(parts)]
            parts.extend(taken)
            on_text("".join(taken))
            if len(parts) >= request.max_tokens:
                # A server that ignores the limit must not stream forever; leaving the block
                # closes the response, which stops it generating.
                log.warning("llm_answer_cut", run=ctx.run.id, tokens=len(parts))
                return "".join(parts)
    return chat.result.text
