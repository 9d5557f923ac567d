"""The one place where exceptions become wire `error` messages."""

from __future__ import annotations

from typing import Any

import structlog

from server.engine.errors import AtelierError, BackendError
from server.engine.stages.texts import backend_problem
from server.protocol import ErrorCode, ProtocolError

log = structlog.get_logger(__name__)

_KNOWN = {code.value for code in ErrorCode}


def error_fields(exc: Exception, *, run: str | None = None) -> dict[str, Any]:
    """Fields of an `error` message for `exc`; unexpected exceptions are logged, not shown."""
    if isinstance(exc, ProtocolError):
        return {"code": exc.code, "message": exc.message, "run": run}
    if isinstance(exc, BackendError):  # its own text names addresses: for the log only
        log.warning("request_backend_error", run=run, error=str(exc))
        return {"code": ErrorCode.BACKEND, "message": backend_problem(exc, "en"), "run": run}
    if isinstance(exc, AtelierError) and exc.code in _KNOWN and exc.code != ErrorCode.INTERNAL:
        fields: dict[str, Any] = {"code": exc.code, "message": str(exc), "run": run}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            fields["retry_after"] = retry_after
        return fields
    # A bug (InvalidState included) or an error with no code of its own: its text is for the log.
    log.exception("unexpected_error", exc_info=exc)
    return {"code": ErrorCode.INTERNAL, "message": "internal server error", "run": run}
