"""Readable text for ComfyUI's validation and execution errors (pure)."""

from __future__ import annotations

from typing import Any

from server.engine.errors import BackendError
from server.protocol import RunEndCode


class PromptLost(BackendError):
    """ComfyUI no longer knows a prompt we submitted (the instance restarted)."""

    code = RunEndCode.BACKEND_PROMPT_LOST
    retryable = True


def format_node_errors(body: object) -> str:
    """`Node 2 (ImageInvert): image: Required input is missing; ...` from a /prompt answer."""
    if not isinstance(body, dict):
        return "ComfyUI rejected the workflow"
    parts: list[str] = []
    error = body.get("error")
    if isinstance(error, dict):
        message = str(error.get("message", "")).strip()
        details = str(error.get("details", "")).strip()
        if message:
            parts.append(f"{message} ({details})" if details and details != message else message)
    node_errors = body.get("node_errors")
    if isinstance(node_errors, dict):
        parts.extend(_format_node(node_id, info) for node_id, info in node_errors.items())
    return "; ".join(part for part in parts if part) or "ComfyUI rejected the workflow"


def _format_node(node_id: str, info: object) -> str:
    if not isinstance(info, dict):
        return f"Node {node_id}: invalid"
    class_type = info.get("class_type", "?")
    errors = info.get("errors") if isinstance(info.get("errors"), list) else []
    texts = [_format_error(e) for e in errors or [] if isinstance(e, dict)]
    return f"Node {node_id} ({class_type}): " + ", ".join(texts or ["invalid"])


def _format_error(error: dict[str, Any]) -> str:
    details = str(error.get("details", "")).strip()
    message = str(error.get("message", error.get("type", "error"))).strip()
    return f"{details}: {message}" if details else message


def format_execution_error(data: dict[str, Any]) -> str:
    """`Node 2 (UpscaleModelLoader) failed: IndexError: pop from empty list`."""
    node = data.get("node_id", "?")
    node_type = data.get("node_type", "?")
    exc_type = data.get("exception_type", "Error")
    message = str(data.get("exception_message", "")).strip()
    return f"Node {node} ({node_type}) failed: {exc_type}: {message}"
