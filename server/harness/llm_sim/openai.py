"""`OpenAISimulator`: an OpenAI-compatible `/v1/chat/completions` SSE server, byte-compatible
with the llama.cpp servers captured in shared/reference/llm/ (flavor "llama-server" or
"llama-cpp-python"): role-only first chunk, `delta:{}` finish chunk, `data: [DONE]`, headers at
once and `: ping` comments while a request waits or generation is slow."""

from __future__ import annotations

import json
import secrets
import string
import time
import uuid
from typing import Any

import orjson
from aiohttp import web

from server.harness.llm_sim.base import SimulatorBase
from server.harness.llm_sim.common import (
    SimModel,
    find_model,
    prompt_token_count,
    thinking_for,
    tokenize,
)
from server.harness.llm_sim.ollama import BUSY_MESSAGE
from server.harness.llm_sim.sse_writer import HEADERS, SseWriter
from server.harness.llm_sim.structured import SchemaRefused, openai_schema

#: The schema a chat asked for (None: free text).
Schema = dict[str, Any] | None

_ALNUM = string.ascii_letters + string.digits
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    503: "unavailable_error",
}


class OpenAISimulator(SimulatorBase):
    kind = "openai"

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)

    @property
    def _python(self) -> bool:
        return self.settings.flavor == "llama-cpp-python"

    def _dumps(self, value: Any) -> bytes:
        # llama-cpp-python writes json.dumps() (spaces, ASCII escapes); llama-server compact UTF-8.
        return json.dumps(value).encode() if self._python else orjson.dumps(value)

    def _error(self, status: int, message: str) -> web.Response:
        kind = _ERROR_TYPES.get(status, "api_error" if self._python else "server_error")
        error: dict[str, Any] = (
            {"message": message, "type": kind, "param": None, "code": None}
            if self._python
            else {"code": status, "message": message, "type": kind}
        )
        return web.Response(
            status=status, body=self._dumps({"error": error}), content_type="application/json"
        )

    async def _models(self, request: web.Request) -> web.Response:
        self.counters.info_requests += 1
        if self.settings.models_wait_for_generation:
            async with self.gate.slot():  # llama-cpp-python's global model lock
                return self._model_list()
        return self._model_list()

    def _model_list(self) -> web.Response:
        data = [
            {"id": m.name, "object": "model", "created": 0, "owned_by": "llamacpp"}
            for m in self.settings.models
        ]
        return web.Response(
            body=self._dumps({"object": "list", "data": data}),
            content_type="application/json",
            headers={"Server": HEADERS[self.settings.flavor].get("Server", "uvicorn")},
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if self.faults.drop_connections:
            return self._drop(request)
        if not self.authorised(request):
            return self._error(401, "Invalid API Key")
        checked = self._check(await request.read())
        if isinstance(checked, web.Response):
            return checked
        payload, model, schema = checked
        if not self.gate.admits():
            self.counters.busy_rejections += 1
            return self._error(503, BUSY_MESSAGE)
        run = ChatRun(payload, model, self.answer(payload, schema), self._python)
        if payload.get("stream") is not True:
            return await self._serve(self._whole(run))
        return await self._serve(SseWriter(self, request, run).serve())

    def _check(self, body: bytes) -> web.Response | tuple[dict[str, Any], SimModel, Schema]:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return self._error(400, "invalid JSON in request body")
        if not isinstance(payload, dict) or not payload.get("messages"):
            return self._error(400, "[] is too short - 'messages'")
        self.last_chat = payload
        model = find_model(self.settings, str(payload.get("model", "")))
        if model is None:
            return self._error(404, f"model '{payload.get('model')}' not found")
        if self.faults.error_status is not None:
            return self._error(self.faults.error_status, "simulated failure")
        try:
            schema = openai_schema(payload, python=self._python)
        except SchemaRefused as exc:
            return self._error(exc.status, str(exc))
        return payload, model, schema

    async def _whole(self, run: ChatRun) -> web.Response:
        async with self.gate.slot():
            text = "".join(t for k, t in run.tokens if k == "content")
            body = {
                "id": run.id,
                "object": "chat.completion",
                "created": run.created,
                "model": run.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"content": text, "role": "assistant"},
                        "logprobs": None,
                        "finish_reason": run.finish_reason,
                    }
                ],
                "usage": run.usage(),
            }
            self.counters.completed += 1
            return web.Response(body=self._dumps(body), content_type="application/json")


class ChatRun:
    """One generation: tokens, ids and the chunk shapes of the chosen flavor."""

    def __init__(self, payload: dict[str, Any], model: SimModel, answer: str, python: bool):
        self.python = python
        self.model = str(payload.get("model", model.name))
        self.messages = payload.get("messages") or []
        self.created = int(time.time())
        suffix = str(uuid.uuid4()) if python else "".join(secrets.choice(_ALNUM) for _ in range(32))
        self.id = "chatcmpl-" + suffix
        think = model.thinking and payload.get("reasoning_effort") != "none"
        tokens = [("reasoning_content", t) for t in tokenize(thinking_for(answer))] if think else []
        tokens += [("content", t) for t in tokenize(answer)]
        limit = int(payload.get("max_tokens") or -1)
        self.finish_reason = "length" if 0 <= limit < len(tokens) else "stop"
        self.tokens = tokens[:limit] if limit >= 0 else tokens
        options = payload.get("stream_options") or {}
        self.include_usage = bool(options.get("include_usage")) and not python
        self.started = time.monotonic()

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        if self.python:
            return {
                "id": self.id,
                "model": self.model,
                "created": self.created,
                "object": "chat.completion.chunk",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
        return self._server_chunk([{"finish_reason": finish, "index": 0, "delta": delta}])

    def _server_chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "choices": choices,
            "created": int(time.time()),  # llama-server stamps every chunk afresh
            "id": self.id,
            "model": self.model,
            "system_fingerprint": "b0-unknown",
            "object": "chat.completion.chunk",
        }

    def role_chunk(self) -> dict[str, Any]:
        role: dict[str, Any] = {"role": "assistant"}
        if not self.python:
            role["content"] = None
        return self.chunk(role)

    def finish_chunk(self) -> dict[str, Any]:
        chunk = self.chunk({}, self.finish_reason)
        if not self.python:
            chunk["timings"] = self.timings()
        return chunk

    def usage_chunk(self) -> dict[str, Any]:
        chunk = self._server_chunk([])
        chunk["usage"] = self.usage()
        return chunk

    def usage(self) -> dict[str, int]:
        prompt = prompt_token_count(self.messages)
        done = len(self.tokens)
        return {"completion_tokens": done, "prompt_tokens": prompt, "total_tokens": prompt + done}

    def timings(self) -> dict[str, Any]:
        elapsed_ms = max((time.monotonic() - self.started) * 1000, 0.001)
        n = max(len(self.tokens), 1)
        return {
            "cache_n": 0,
            "prompt_n": prompt_token_count(self.messages),
            "prompt_ms": 1.0,
            "prompt_per_token_ms": 1.0,
            "prompt_per_second": 1000.0,
            "predicted_n": len(self.tokens),
            "predicted_ms": elapsed_ms,
            "predicted_per_token_ms": elapsed_ms / n,
            "predicted_per_second": n * 1000 / elapsed_ms,
        }
