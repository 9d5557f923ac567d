"""`error` messages built from exceptions: a backend's own text never reaches the client."""

from __future__ import annotations

from server.engine.errors import BackendUnavailable, InvalidState
from server.handlers.errors import error_fields
from server.protocol import ErrorCode


def test_a_backend_error_is_told_by_kind_never_by_address() -> None:
    exc = BackendUnavailable(
        "cannot connect to http://127.0.0.1:11434/api/chat: Connection refused",
        backend="llm",
        instance="gpu1",
    )
    fields = error_fields(exc, run="r-1")
    assert fields == {
        "code": ErrorCode.BACKEND,
        "message": "the text machine cannot be reached right now",
        "run": "r-1",
    }


def test_an_unexpected_exception_is_internal_and_says_nothing_of_itself() -> None:
    fields = error_fields(RuntimeError("/srv/atelier/secret.log: boom"))
    assert fields == {"code": ErrorCode.INTERNAL, "message": "internal server error", "run": None}


def test_a_misuse_error_is_internal_and_its_text_stays_in_the_log() -> None:
    fields = error_fields(InvalidState("session s-1: cannot go from closed to attached"))
    assert fields == {"code": ErrorCode.INTERNAL, "message": "internal server error", "run": None}
