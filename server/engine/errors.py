"""The project's own exceptions.

Backend clients translate aiohttp and timeout errors into these at their boundary; one place
(`server.handlers.errors`) turns them into wire messages and close codes. Nothing above the
clients ever catches an aiohttp exception.
"""

from __future__ import annotations


class AtelierError(Exception):
    """Base class of every error the project raises on purpose."""

    #: A stable, machine-readable code that can go onto the wire.
    code: str = "internal"


class BackendError(AtelierError):
    """A backend (LLM server, ComfyUI instance) failed to do what was asked."""

    code = "backend_error"
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

    code = "backend_unavailable"
    retryable = True


class BackendTimeout(BackendError):
    """The instance did not answer within a configured bound (connect, first byte, idle)."""

    code = "backend_timeout"
    retryable = True


class BackendBusy(BackendError):
    """The instance refused for load (Ollama's 503 "server busy")."""

    code = "backend_busy"
    retryable = True


class BackendProtocolError(BackendError):
    """The instance answered something we cannot understand, or a stream ended early."""

    code = "backend_protocol"


class ModelNotFound(BackendError):
    """The instance does not have the model (or checkpoint, LoRA) the request names."""

    code = "model_not_found"


class BackendRejected(BackendError):
    """The instance refused the request as invalid (4xx, ComfyUI node errors)."""

    code = "backend_rejected"


class BackendPaused(BackendError):
    """The instance gets no work for a while: it failed too many pieces of work in a row (its
    circuit breaker is open). Names the cause of that health change; not raised at work."""

    code = "backend_paused"
    retryable = True
