"""The OpenAI-compatible dialect: `POST /v1/chat/completions` streaming SSE and `/v1/models`
(llama.cpp's server, llama-cpp-python, vLLM, LM Studio, Ollama's /v1, cloud gateways).

`OpenAIChatInterpreter` is pure (bytes in, deltas out); `OpenAIClient` adds the HTTP.
"""

from __future__ import annotations

from typing import Any

import orjson

from server.engine.llm.base import BaseLLMClient
from server.engine.llm.decoders import DEFAULT_MAX_LINE, DecodeError, SseDecoder, SseEvent
from server.engine.llm.errors import StreamTruncated, error_message
from server.engine.llm.interpret import ChatInterpreterBase
from server.engine.llm.types import (
    ChatDelta,
    ChatMessage,
    ChatRequest,
    DeltaKind,
    Dialect,
    StructuredOutput,
)


def openai_message(message: ChatMessage) -> dict[str, Any]:
    """One message; with pictures its content is a list of parts, each picture a data URL."""
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
    for image in message.images:
        parts.append({"type": "image_url", "image_url": {"url": image.data_url()}})
    return {"role": message.role, "content": parts}


def openai_chat_payload(
    request: ChatRequest,
    *,
    include_usage: bool = True,
    structured_output: StructuredOutput = "json_schema",
) -> dict[str, Any]:
    """The `/v1/chat/completions` body; `max_tokens` is always sent (llama.cpp's is unlimited)."""
    payload: dict[str, Any] = {
        "model": request.model,
        "messages": [openai_message(m) for m in request.messages],
        "stream": True,
        "max_tokens": request.max_tokens,
    }
    if include_usage:
        payload["stream_options"] = {"include_usage": True}
    if request.temperature is not None:
        payload["temperature"] = request.temperature
    if request.top_p is not None:
        payload["top_p"] = request.top_p
    if request.seed is not None:
        payload["seed"] = request.seed
    if request.stop:
        payload["stop"] = list(request.stop)
    if request.think is not None and request.think is not False:
        # Only a request for thinking is sent: gateways reject reasoning fields they lack.
        payload["reasoning_effort"] = "medium" if request.think is True else request.think
    schema = request.response_schema
    if schema is not None and structured_output != "off":
        payload["response_format"] = response_format(schema, structured_output)
    return payload


def response_format(schema: dict[str, Any], style: StructuredOutput) -> dict[str, Any]:
    """The `response_format` asking for `schema`, in the form the server understands."""
    if style == "json_object":
        return {"type": "json_object", "schema": schema}
    name = str(schema.get("title") or "answer")
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


class OpenAIChatInterpreter(ChatInterpreterBase[SseEvent]):
    """Reads chat.completion.chunk events; the stream is complete only at `data: [DONE]`."""

    end_marker = "data: [DONE]"

    def __init__(self, model: str, max_line_bytes: int = DEFAULT_MAX_LINE) -> None:
        self._sse = SseDecoder(max_line_bytes)
        super().__init__(self._sse, model)

    @property
    def comments(self) -> int:
        return self._sse.comments

    def _interpret(self, events: list[SseEvent]) -> list[ChatDelta]:
        deltas: list[ChatDelta] = []
        for event in events:
            if self.done or self.failure is not None:
                break
            if event.event == "error":
                self.failure = error_message(event.data.encode())
            elif event.data == "[DONE]":
                self._done()
            else:
                self._chunk(_object(event.data), deltas)
        return deltas

    def _done(self) -> None:
        if self.finish_reason is None:
            # llama-cpp-python ends an interrupted stream this way (no finish chunk).
            raise StreamTruncated("[DONE] arrived without a finish_reason")
        self.done = True

    def _chunk(self, chunk: dict[str, Any], deltas: list[ChatDelta]) -> None:
        if "error" in chunk:
            self.failure = error_message(orjson.dumps(chunk))
            return
        self.model = chunk.get("model") or self.model
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) == 0:
                self._choice(choice, deltas)
        usage = chunk.get("usage")
        if usage:
            self.prompt_tokens = usage.get("prompt_tokens")
            self.completion_tokens = usage.get("completion_tokens")
        elif "timings" in chunk and self.completion_tokens is None:
            self._timings(chunk["timings"])

    def _choice(self, choice: dict[str, Any], deltas: list[ChatDelta]) -> None:
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            deltas.append(ChatDelta(DeltaKind.THINKING, reasoning))
        content = delta.get("content")
        if content:
            deltas.append(ChatDelta(DeltaKind.CONTENT, content))
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]

    def _timings(self, timings: dict[str, Any]) -> None:
        # llama-server reports counts here when no usage chunk was asked for or honoured.
        self.completion_tokens = timings.get("predicted_n")
        if "prompt_n" in timings:
            self.prompt_tokens = timings["prompt_n"] + timings.get("cache_n", 0)


def _object(data: str) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"invalid JSON event: {data[:200]!r}") from exc
    if not isinstance(value, dict):
        raise DecodeError(f"expected a JSON object per event, got {type(value).__name__}")
    return value


class OpenAIClient(BaseLLMClient):
    """Talks to one OpenAI-compatible server."""

    dialect = Dialect.OPENAI
    chat_path = "/v1/chat/completions"

    def chat_payload(self, request: ChatRequest) -> dict[str, Any]:
        config = self.config
        return openai_chat_payload(
            request,
            include_usage=config.include_usage,
            structured_output=config.structured_output,
        )

    def interpreter(self, request: ChatRequest) -> OpenAIChatInterpreter:
        return OpenAIChatInterpreter(request.model, self.config.max_line_bytes)

    async def list_models(self) -> list[str]:
        data = await self.get_json("/v1/models")
        return [str(m["id"]) for m in (data or {}).get("data") or []]

    async def version(self) -> str:
        """The API has no version endpoint: the `Server` header of `/v1/models` stands in."""
        _, server = await self.get_document("/v1/models")
        return server or "unknown"
