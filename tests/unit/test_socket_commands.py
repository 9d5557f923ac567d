"""The socket's command table without a socket: every client message has a row, a row's
roles are checked before its handler runs, and errors name the run or ref they concern."""

from __future__ import annotations

from typing import cast

import pytest

from server.engine.session import Session
from server.handlers.commands import COMMANDS, Caller, Scope
from server.protocol import (
    CLIENT_MODELS,
    CompareStart,
    ErrorCode,
    ProtocolError,
    Role,
    RunCancel,
    RunStart,
    parse_client,
)

SESSION = cast(Session, object())  # the table hands it on to the engine and never touches it


class RecordingRuns:
    """A RunService that remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Session, RunStart | CompareStart | RunCancel]] = []

    def start(self, session: Session, message: RunStart) -> None:
        self.calls.append(("start", session, message))

    def compare(self, session: Session, message: CompareStart) -> None:
        self.calls.append(("compare", session, message))

    def cancel(self, session: Session, message: RunCancel) -> None:
        self.calls.append(("cancel", session, message))


START = parse_client(b'{"type": "run.start", "prompt": "a cat", "interception": "x", "ref": "c-1"}')
CANCEL = parse_client(b'{"type": "run.cancel", "run": "r-1"}')
COMPARE = parse_client(
    b'{"type": "compare.start", "prompt": "a cat", "perspectives": ["x", "y"], "ref": "c-2"}'
)
HELLO = parse_client(b'{"type": "hello", "protocol": 1}')


def caller(role: Role, runs: RecordingRuns) -> Caller:
    return Caller(SESSION, role, runs)


def test_every_client_message_type_has_a_row() -> None:
    assert COMMANDS.message_types() == frozenset(CLIENT_MODELS)


def test_a_students_run_commands_reach_the_run_service() -> None:
    runs = RecordingRuns()
    COMMANDS.dispatch(caller(Role.STUDENT, runs), START)
    COMMANDS.dispatch(caller(Role.STUDENT, runs), COMPARE)
    COMMANDS.dispatch(caller(Role.STUDENT, runs), CANCEL)
    assert runs.calls == [
        ("start", SESSION, START),
        ("compare", SESSION, COMPARE),
        ("cancel", SESSION, CANCEL),
    ]


@pytest.mark.parametrize("message", [START, COMPARE, CANCEL])
def test_a_command_outside_the_senders_role_is_refused_before_its_handler(
    message: RunStart | CompareStart | RunCancel,
) -> None:
    runs = RecordingRuns()
    with pytest.raises(ProtocolError) as refused:
        COMMANDS.dispatch(caller(Role.TEACHER, runs), message)
    assert refused.value.code == ErrorCode.UNKNOWN_TYPE
    assert runs.calls == []


@pytest.mark.parametrize("role", list(Role))
def test_a_second_hello_is_already_greeted_for_every_role(role: Role) -> None:
    with pytest.raises(ProtocolError) as refused:
        COMMANDS.dispatch(caller(role, RecordingRuns()), HELLO)
    assert refused.value.code == ErrorCode.ALREADY_GREETED


def test_errors_name_the_start_requests_ref_and_the_cancelled_run() -> None:
    assert COMMANDS.scope(START) == Scope(ref="c-1")
    assert COMMANDS.scope(CANCEL) == Scope(run="r-1")
    assert COMMANDS.scope(HELLO) == Scope()
