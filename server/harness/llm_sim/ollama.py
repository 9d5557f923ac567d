"""`OllamaSimulator`: Ollama's native API as the v0.33 server behaves (see
shared/reference/llm-api.md §1): `/api/chat` NDJSON with headers only at the first token, Go's
JSON escaping and nanosecond durations, the exact error bodies, 503 when the queue is full."""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from server.harness.llm_sim.base import SimulatorBase
from server.harness.llm_sim.common import (
    Pacer,
    SimModel,
    find_model,
    prompt_token_count,
    rfc3339_nano,
    thinking_for,
    tokenize,
)
from server.harness.llm_sim.structured import SchemaRefused, ollama_schema

BUSY_MESSAGE = "server busy, please try again.  maximum pending requests exceeded"
JSON_TYPE = "application/json; charset=utf-8"
# A fixed digest so /api/tags looks real without pretending to be any published model.
_DIGEST = "5c0ffee0" * 8


def go_json(value: Any) -> bytes:
    """JSON as Go's encoding/json writes it: HTML characters and U+2028/9 escaped."""
    data = orjson.dumps(value)
    for raw, escaped in _GO_ESCAPES:
        if raw in data:
            data = data.replace(raw, escaped)
    return data


_GO_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def error_response(status: int, message: str) -> web.Response:
    return _json(status, {"error": message})


class OllamaSimulator(SimulatorBase):
    kind = "ollama"

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._root)  # aiohttp adds HEAD for GET routes
        app.router.add_get("/api/version", self._version)
        app.router.add_get("/api/tags", self._tags)
        app.router.add_post("/api/chat", self._chat)

    async def _root(self, request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def _version(self, request: web.Request) -> web.Response:
        self.counters.info_requests += 1
        return _json(200, {"version": self.settings.version})

    async def _tags(self, request: web.Request) -> web.Response:
        self.counters.info_requests += 1
        return _json(200, {"models": [_tag(model) for model in self.settings.models]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if self.faults.drop_connections:
            return self._drop(request)
        if not self.authorised(request):
            return error_response(401, "unauthorized")
        body = await request.read()
        checked = self._check(body)
        if isinstance(checked, web.Response):
            return checked
        payload, model = checked
        if not self.gate.admits():
            self.counters.busy_rejections += 1
            return error_response(503, BUSY_MESSAGE)
        return await self._serve(self._generate(request, payload, model))

    def _check(self, body: bytes) -> web.Response | tuple[dict[str, Any], SimModel]:
        if not body.strip():
            return error_response(400, "missing request body")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return error_response(400, "invalid character looking for beginning of value")
        if not isinstance(payload, dict) or not payload.get("model"):
            return error_response(400, "model is required")
        self.last_chat = payload
        model = find_model(self.settings, str(payload["model"]))
        if model is None:
            return error_response(404, f"model '{payload['model']}' not found")
        if payload.get("think") not in (None, False) and not model.thinking:
            return error_response(400, f'"{payload["model"]}" does not support thinking')
        try:
            ollama_schema(payload)
        except SchemaRefused as exc:
            return error_response(exc.status, str(exc))
        if self.faults.error_status is not None:
            return error_response(self.faults.error_status, "simulated failure")
        return payload, model

    async def _generate(
        self, request: web.Request, payload: dict[str, Any], model: SimModel
    ) -> web.StreamResponse:
        run = _Run(payload, model, self.answer(payload, ollama_schema(payload)))
        async with self.gate.slot():
            self.counters.generating += 1
            try:
                if payload.get("stream", True) is False:
                    return await self._whole(run)
                return await self._stream(request, run)
            finally:
                self.counters.generating -= 1

    async def _stream(self, request: web.Request, run: _Run) -> web.StreamResponse:
        faults = self.faults
        pacer = Pacer(self.settings.tokens_per_second, self.settings.first_token_delay)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        for index, (kind, token) in enumerate(run.tokens):
            if index == faults.hang_after_tokens:
                await self._until_disconnected(request)
            if index == faults.fail_after_tokens or index == faults.truncate_after_tokens:
                return await self._cut(request, response, run, index)
            await pacer.wait_for(index)
            if not response.prepared:
                await response.prepare(request)  # headers go out with the first token
            await response.write(go_json(run.line(kind, token)) + b"\n")
        if faults.hang_after_tokens == len(run.tokens):
            await self._until_disconnected(request)
        if not response.prepared:
            await response.prepare(request)
        await response.write(go_json(run.final()) + b"\n")
        await response.write_eof()
        self.counters.completed += 1
        return response

    async def _cut(
        self, request: web.Request, response: web.StreamResponse, run: _Run, index: int
    ) -> web.StreamResponse:
        self.counters.failed += 1
        if not response.prepared:
            await response.prepare(request)
        if index == self.faults.fail_after_tokens:
            message = f"simulated failure after {index} tokens"
            await response.write(go_json({"error": message}) + b"\n")
        await response.write_eof()
        return response

    async def _whole(self, run: _Run) -> web.Response:
        final = run.final()
        final["message"]["content"] = "".join(t for k, t in run.tokens if k == "content")
        thinking = "".join(t for k, t in run.tokens if k == "thinking")
        if thinking:
            final["message"]["thinking"] = thinking
        self.counters.completed += 1
        return _json(200, final)


class _Run:
    """One generation: the tokens to send and the lines that carry them."""

    def __init__(self, payload: dict[str, Any], model: SimModel, answer: str) -> None:
        self.started = time.monotonic_ns()
        self.model = str(payload["model"])
        self.messages = payload.get("messages") or []
        options = payload.get("options") or {}
        limit = int(options.get("num_predict", -1))
        think = model.thinking and payload.get("think", True) is not False
        tokens = [("thinking", t) for t in tokenize(thinking_for(answer))] if think else []
        tokens += [("content", t) for t in tokenize(answer)]
        self.done_reason = "length" if 0 <= limit < len(tokens) else "stop"
        self.tokens = tokens[:limit] if limit >= 0 else tokens
        if not self.messages:
            self.tokens, self.done_reason = [], "load"

    def line(self, kind: str, token: str) -> dict[str, Any]:
        message = {"role": "assistant", "content": token if kind == "content" else ""}
        if kind == "thinking":
            message["thinking"] = token
        return {
            "model": self.model,
            "created_at": rfc3339_nano(time.time_ns()),
            "message": message,
            "done": False,
        }

    def final(self) -> dict[str, Any]:
        total = time.monotonic_ns() - self.started
        line: dict[str, Any] = {
            "model": self.model,
            "created_at": rfc3339_nano(time.time_ns()),
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": self.done_reason,
        }
        if self.done_reason == "load":
            return line
        load, prompt_eval = total // 50 + 1, total // 10 + 1
        line.update(
            total_duration=total + load + prompt_eval,
            load_duration=load,
            prompt_eval_count=prompt_token_count(self.messages),
            prompt_eval_duration=prompt_eval,
            eval_count=len(self.tokens),
            eval_duration=total,
        )
        return line


def _json(status: int, value: Any) -> web.Response:
    return web.Response(status=status, body=go_json(value), headers={"Content-Type": JSON_TYPE})


def _tag(model: SimModel) -> dict[str, Any]:
    family = model.name.split(":")[0].rstrip("0123456789.") or "llama"
    return {
        "name": model.name,
        "model": model.name,
        "modified_at": "2026-08-21T18:48:22.123456789Z",
        "size": 2019393189,
        "digest": _DIGEST,
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M",
        },
    }
