"""Ollama's native dialect: `POST /api/chat` streaming NDJSON, `/api/tags`, `/api/version`.

`OllamaChatInterpreter` is pure (bytes in, deltas out); `OllamaClient` adds the HTTP.
"""

from __future__ import annotations

from typing import Any

from server.engine.llm.base import BaseLLMClient
from server.engine.llm.decoders import DEFAULT_MAX_LINE, DecodeError, NdjsonDecoder
from server.engine.llm.interpret import ChatInterpreterBase
from server.engine.llm.types import ChatDelta, ChatMessage, ChatRequest, DeltaKind, Dialect


def ollama_message(message: ChatMessage) -> dict[str, Any]:
    """One message; pictures go in `images`, bare base64 (Ollama reads the format itself)."""
    body: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.images:
        body["images"] = [image.data for image in message.images]
    return body


def ollama_chat_payload(request: ChatRequest) -> dict[str, Any]:
    """The `/api/chat` body. `stream` is always explicit (defaults differ between servers)."""
    options: dict[str, Any] = {"num_predict": request.max_tokens}
    if request.temperature is not None:
        options["temperature"] = request.temperature
    if request.top_p is not None:
        options["top_p"] = request.top_p
    if request.seed is not None:
        options["seed"] = request.seed
    if request.stop:
        options["stop"] = list(request.stop)
    payload: dict[str, Any] = {
        "model": request.model,
        "messages": [ollama_message(m) for m in request.messages],
        "stream": True,
        "options": options,
    }
    if request.think is not None:
        payload["think"] = request.think
    if request.response_schema is not None:
        payload["format"] = request.response_schema  # Ollama constrains output to it
    return payload


class OllamaChatInterpreter(ChatInterpreterBase[Any]):
    """Reads `/api/chat` lines: every line is checked for `error` before `done`."""

    end_marker = "done:true"

    def __init__(self, model: str, max_line_bytes: int = DEFAULT_MAX_LINE) -> None:
        super().__init__(NdjsonDecoder(max_line_bytes), model)

    def _interpret(self, lines: list[Any]) -> list[ChatDelta]:
        deltas: list[ChatDelta] = []
        for line in lines:
            if self.failure is not None or self.done:
                break  # nothing legitimate follows either; tolerate rather than fail an answer
            if not isinstance(line, dict):
                raise DecodeError(f"expected a JSON object per line, got {type(line).__name__}")
            if "error" in line:
                self.failure = str(line["error"])
                break  # nothing legitimate follows done; tolerate rather than fail an answer
            message = line.get("message") or {}
            thinking = message.get("thinking")
            if thinking:
                deltas.append(ChatDelta(DeltaKind.THINKING, thinking))
            content = message.get("content")
            if content:
                deltas.append(ChatDelta(DeltaKind.CONTENT, content))
            if line.get("done") is True:
                self._final(line)
        return deltas

    def _final(self, line: dict[str, Any]) -> None:
        self.done = True
        self.finish_reason = line.get("done_reason")
        self.model = line.get("model") or self.model
        self.prompt_tokens = line.get("prompt_eval_count")
        self.completion_tokens = line.get("eval_count")


class OllamaClient(BaseLLMClient):
    """Talks to one Ollama server."""

    dialect = Dialect.OLLAMA
    chat_path = "/api/chat"

    def chat_payload(self, request: ChatRequest) -> dict[str, Any]:
        return ollama_chat_payload(request)

    def interpreter(self, request: ChatRequest) -> OllamaChatInterpreter:
        return OllamaChatInterpreter(request.model, self.config.max_line_bytes)

    async def list_models(self) -> list[str]:
        data = await self.get_json("/api/tags")
        return [str(m["name"]) for m in (data or {}).get("models") or []]

    async def version(self) -> str:
        data = await self.get_json("/api/version")
        return str(data.get("version", "unknown"))
