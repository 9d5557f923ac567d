"""LLM-specific failures: pure exceptions raised by the stream interpreters, and the mapping
of an HTTP error status and body onto the project's `BackendError` hierarchy."""

from __future__ import annotations

from typing import Any

import orjson

from server.engine.errors import (
    BackendBusy,
    BackendError,
    BackendRejected,
    BackendUnavailable,
    ModelNotFound,
)
from server.protocol import RunEndCode


class StreamTruncated(Exception):
    """The stream ended before its final event (no `done:true`, no finish chunk, no `[DONE]`)."""


class BackendAuthFailed(BackendRejected):
    """401/403: the API key is missing or wrong (the key itself is never part of the message)."""

    code = RunEndCode.BACKEND_AUTH


class BackendServerError(BackendError):
    """A 5xx other than 503: the server failed (out of memory, runner crashed, ...)."""

    code = RunEndCode.BACKEND_SERVER_ERROR
    retryable = True


def error_message(body: bytes, limit: int = 500) -> str:
    """Readable text from an error body: Ollama's `{"error": "..."}`, OpenAI's
    `{"error": {"message": ..., "type": ..., "code": ...}}`, FastAPI's `{"detail": ...}`, text."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace").strip()[:limit] or "(empty body)"
    if isinstance(data, dict):
        error = data.get("error", data.get("detail"))
        if isinstance(error, dict):
            return _openai_error_text(error)[:limit]
        if error is not None:
            return str(error)[:limit]
    return body.decode("utf-8", "replace")[:limit]


def _openai_error_text(error: dict[str, Any]) -> str:
    message = str(error.get("message", "unknown error"))
    extras = [f"{key}={error[key]}" for key in ("type", "code") if error.get(key) is not None]
    return f"{message} ({', '.join(extras)})" if extras else message


def error_for_status(
    status: int, body: bytes, *, model: str, backend: str, instance: str
) -> BackendError:
    """The project's exception for a non-200 answer. 404 is matched on status, not text, since
    Ollama words it two ways."""
    text = error_message(body)
    kind, what = _classify(status)
    if kind is ModelNotFound:
        what = f"model {model!r} not found"
    return kind(f"{what} (HTTP {status}): {text}", backend=backend, instance=instance)


def _classify(status: int) -> tuple[type[BackendError], str]:
    if status == 404:
        return ModelNotFound, "not found"
    if status in (429, 503):
        return BackendBusy, "busy"
    if status in (401, 403):
        return BackendAuthFailed, "not authorised"
    if status in (502, 504):
        return BackendUnavailable, "gateway error"
    if 400 <= status < 500:
        return BackendRejected, "rejected"
    return BackendServerError, "server error"
