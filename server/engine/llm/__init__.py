"""LLM backends: one `LLMClient` interface over Ollama's NDJSON and OpenAI-compatible SSE.

client = create_llm_client(LLMInstanceConfig(name="gpu1", url="http://127.0.0.1:11434"))
async with client.stream_chat(request) as stream:
    async for text in stream:
        ...
stream.result.finish_reason
await client.close()
"""

from __future__ import annotations

from server.engine.llm.base import BaseLLMClient
from server.engine.llm.ollama import OllamaClient
from server.engine.llm.openai import OpenAIClient
from server.engine.llm.stream import HttpChatStream
from server.engine.llm.types import (
    ChatDelta,
    ChatImage,
    ChatMessage,
    ChatRequest,
    ChatResult,
    ChatStream,
    DeltaKind,
    Dialect,
    LLMClient,
    LLMInstanceConfig,
)

__all__ = [
    "BaseLLMClient",
    "ChatDelta",
    "ChatImage",
    "ChatMessage",
    "ChatRequest",
    "ChatResult",
    "ChatStream",
    "DeltaKind",
    "Dialect",
    "HttpChatStream",
    "LLMClient",
    "LLMInstanceConfig",
    "OllamaClient",
    "OpenAIClient",
    "create_llm_client",
]


def create_llm_client(config: LLMInstanceConfig) -> BaseLLMClient:
    """The client for the instance's dialect; its session opens lazily or in `start()`."""
    if config.dialect is Dialect.OLLAMA:
        return OllamaClient(config)
    return OpenAIClient(config)
