"""The socket's command table: each client message type, the function that handles it and the
roles allowed to send it.

A new command (joining a class, a teacher's action) is a new row in `COMMANDS`, not a new
branch in the read loop of `server/handlers/ws.py`. Handlers stay thin: they hand the parsed
message to the engine, whose errors become the socket's `error` replies there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from server.engine.classroom.hub import ClassHub
from server.engine.service import RunService, Unavailable
from server.engine.session import Session
from server.protocol import (
    ClassUnwatch,
    ClassWatch,
    ClientMessage,
    CompareStart,
    ErrorCode,
    Hello,
    Message,
    ProtocolError,
    Role,
    RunCancel,
    RunStart,
)

EVERYONE = frozenset(Role)
STUDENTS = frozenset({Role.STUDENT})
TEACHERS = frozenset({Role.TEACHER})


@dataclass(frozen=True, slots=True)
class Caller:
    """What a command may reach: the sender's session and role, and the engine's services."""

    session: Session
    role: Role
    runs: RunService
    #: The class hub, once the pipeline is published (None before, or without one).
    classes: ClassHub | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    """What an `error` about a command names: the run it concerns, the client's own `ref`."""

    run: str | None = None
    ref: str | None = None


NO_SCOPE = Scope()

M = TypeVar("M", bound=Message)


def _unscoped(message: Message) -> Scope:
    return NO_SCOPE


@dataclass(frozen=True, slots=True)
class Command(Generic[M]):
    """One row of the table: a message type, its handler, who may send it, its error scope."""

    message: type[M]
    handle: Callable[[Caller, M], None]
    roles: frozenset[Role]
    scope: Callable[[M], Scope] = _unscoped


class CommandTable:
    """Client message types to their rows; `dispatch` checks the sender's role first."""

    def __init__(self, commands: Iterable[Command[Any]]) -> None:
        self._rows: dict[type[Message], Command[Any]] = {row.message: row for row in commands}

    def message_types(self) -> frozenset[type[Message]]:
        return frozenset(self._rows)

    def scope(self, message: ClientMessage) -> Scope:
        return self._rows[type(message)].scope(message)

    def dispatch(self, caller: Caller, message: ClientMessage) -> None:
        row = self._rows[type(message)]
        if caller.role not in row.roles:
            # As for a type that does not exist: a command outside one's role is not one's own.
            raise ProtocolError(
                ErrorCode.UNKNOWN_TYPE, f"`{message.type}` is not a {caller.role}'s message"
            )
        row.handle(caller, message)


def _already_greeted(caller: Caller, message: Hello) -> None:
    raise ProtocolError(ErrorCode.ALREADY_GREETED, "this socket already said hello")


def _start_run(caller: Caller, message: RunStart) -> None:
    caller.runs.start(caller.session, message)


def _start_compare(caller: Caller, message: CompareStart) -> None:
    caller.runs.compare(caller.session, message)


def _compare_scope(message: CompareStart) -> Scope:
    return Scope(ref=message.ref)


def _cancel_run(caller: Caller, message: RunCancel) -> None:
    caller.runs.cancel(caller.session, message)


def _watch_class(caller: Caller, message: ClassWatch) -> None:
    _hub(caller).request_watch(caller.session, message.class_id)


def _unwatch_class(caller: Caller, message: ClassUnwatch) -> None:
    _hub(caller).unwatch(caller.session)


def _hub(caller: Caller) -> ClassHub:
    if caller.classes is None:
        raise Unavailable("this server has no pipeline configured")
    return caller.classes


def _start_scope(message: RunStart) -> Scope:
    return Scope(ref=message.ref)


def _cancel_scope(message: RunCancel) -> Scope:
    return Scope(run=message.run)


# Teachers' rights to runs are decided with the teacher console; until then runs are students'.
COMMANDS = CommandTable(
    [
        Command(Hello, _already_greeted, EVERYONE),
        Command(RunStart, _start_run, STUDENTS, _start_scope),
        Command(RunCancel, _cancel_run, STUDENTS, _cancel_scope),
        Command(ClassWatch, _watch_class, TEACHERS),
        Command(ClassUnwatch, _unwatch_class, TEACHERS),
        Command(CompareStart, _start_compare, STUDENTS, _compare_scope),
    ]
)
