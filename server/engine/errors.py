"""The project's own exceptions.

Backend clients translate aiohttp and timeout errors into these at their boundary; one place
(`server.handlers.errors`) turns them into wire messages and close codes. Nothing above the
clients ever catches an aiohttp exception.

Three families, kept apart: what a client asked wrongly (its code an `ErrorCode`), what a
backend failed to do (`BackendError`, its code a `RunEndCode`), and `InvalidState`, the one
misuse error: code that asked an object for what its state does not allow (websockets'
`InvalidState`). The last is a bug, so it is also an `AssertionError`.
"""

from __future__ import annotations

from typing import ClassVar

from server.protocol import ErrorCode, RunEndCode


class AtelierError(Exception):
    """Base class of every error the project raises on purpose."""

    #: A stable, machine-readable code that can go onto the wire: an `error` message's when a
    #: request fails, a `run.done`'s when a run ends with it.
    code: ClassVar[ErrorCode | RunEndCode] = ErrorCode.INTERNAL


class InvalidState(AtelierError, AssertionError):
    """An illegal state transition, or an object used in a state that does not allow it (a
    stream iterated outside `async with`): a programming error, never a client's or a
    backend's."""

    code = ErrorCode.INTERNAL


class BackendError(AtelierError):
    """A backend (LLM server, ComfyUI instance) failed to do what was asked."""

    code = RunEndCode.BACKEND_ERROR
    #: True when the same request may succeed if tried again later (busy, restarting).
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        backend: str,
        instance: str,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.backend = backend
        self.instance = instance
        self.cause = cause

    def __str__(self) -> str:
        return f"{self.backend} {self.instance}: {self.message}"


class BackendUnavailable(BackendError):
    """The instance could not be reached (connection refused, reset, DNS)."""

    code = RunEndCode.BACKEND_UNAVAILABLE
    retryable = True


class BackendTimeout(BackendError):
    """The instance did not answer within a configured bound (connect, first byte, idle)."""

    code = RunEndCode.BACKEND_TIMEOUT
    retryable = True


class BackendBusy(BackendError):
    """The instance refused for load (Ollama's 503 "server busy")."""

    code = RunEndCode.BACKEND_BUSY
    retryable = True


class BackendProtocolError(BackendError):
    """The instance answered something we cannot understand, or a stream ended early."""

    code = RunEndCode.BACKEND_PROTOCOL


class ModelNotFound(BackendError):
    """The instance does not have the model (or checkpoint, LoRA) the request names."""

    code = RunEndCode.MODEL_NOT_FOUND


class BackendRejected(BackendError):
    """The instance refused the request as invalid (4xx, ComfyUI node errors)."""

    code = RunEndCode.BACKEND_REJECTED


class BackendPaused(BackendError):
    """The instance gets no work for a while: it failed too many pieces of work in a row (its
    circuit breaker is open). Names the cause of that health change; not raised at work."""

    code = RunEndCode.BACKEND_PAUSED
    retryable = True
