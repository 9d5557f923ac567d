"""Warm-up: ask an LLM instance to load the models the pipeline uses, at start-up
(`warm_up`) or when a teacher asks before a lesson (`classroom/readiness.py`'s `WarmUp` runs
it), so the first class of the day does not wait for model loading.

Ollama loads a model on a chat with no messages and answers at once (`done_reason: "load"`);
an OpenAI-compatible server has no such request, so it gets a one-token completion. Each
model is bounded by `timeout`; failures are logged, never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog

from server.engine.backends.instances import LLMInstance
from server.engine.errors import BackendError
from server.engine.llm import ChatMessage, ChatRequest, Dialect

log = structlog.get_logger(__name__)


def warm_up_request(dialect: Dialect, model: str) -> ChatRequest:
    if dialect is Dialect.OLLAMA:
        return ChatRequest(model=model, messages=())
    return ChatRequest(
        model=model, messages=(ChatMessage(role="user", content="Hi"),), max_tokens=1
    )


async def warm_up(instance: LLMInstance, models: Sequence[str], timeout: float) -> list[str]:
    """Load each model the instance serves, one after another; returns those loaded."""
    loaded: list[str] = []
    for model in dict.fromkeys(m for m in models if instance.serves(m)):
        try:
            async with asyncio.timeout(timeout):
                await instance.client.complete(warm_up_request(instance.config.dialect, model))
        except (BackendError, TimeoutError) as exc:
            log.warning("llm_warm_up_failed", instance=instance.name, model=model, error=str(exc))
            continue
        log.info("llm_warmed_up", instance=instance.name, model=model)
        loaded.append(model)
    return loaded
