"""What the socket handler asks of the domain when a client sends a run command."""

from __future__ import annotations

from typing import Protocol

from server.engine.errors import AtelierError
from server.engine.session import Session
from server.protocol import CompareStart, ErrorCode, RunCancel, RunStart


class RunService(Protocol):
    """Starts and cancels runs for a session; replies go out as session events."""

    def start(self, session: Session, message: RunStart) -> None: ...

    def compare(self, session: Session, message: CompareStart) -> None: ...

    def cancel(self, session: Session, message: RunCancel) -> None: ...


class Unavailable(AtelierError):
    code = ErrorCode.UNAVAILABLE


class NoRuns:
    """A RunService for a server with no pipeline wired in: every command is refused."""

    def start(self, session: Session, message: RunStart) -> None:
        raise Unavailable("this server has no pipeline configured")

    def compare(self, session: Session, message: CompareStart) -> None:
        raise Unavailable("this server has no pipeline configured")

    def cancel(self, session: Session, message: RunCancel) -> None:
        raise Unavailable("this server has no pipeline configured")
