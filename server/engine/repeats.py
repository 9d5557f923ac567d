"""One click, one run: a `run.start` or `compare.start` sent again with the same `ref` gets
its `run.accepted`s again instead of a second run on the shared GPU.

A double click, or a page that sends again after a short drop, repeats the message the server
already accepted. The page gives every start its own `ref` (`static/js/store.js`), so within one
session a `ref` seen before names the same request. Only accepted starts are remembered: a start
that was refused (a limit, a blocked prompt) may be sent again and is checked again. A session
keeps its last `MAX_REMEMBERED_STARTS` refs; the memory ends with the session.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from server.engine.run import Run
from server.engine.session import Session
from server.protocol import RunAccepted

#: Accepted refs remembered per session: far more than a student starts between two clicks,
#: small enough that a session holding a socket open cannot grow the memory.
MAX_REMEMBERED_STARTS = 32


@dataclass(frozen=True, slots=True)
class Accepted:
    """What one run's `run.accepted` said, to say again (`Run.accepted`)."""

    run: str
    fields: dict[str, Any]


class RecentStarts:
    """Per session, the accepted refs and the runs each one started (a compare: several)."""

    def __init__(self, limit: int = MAX_REMEMBERED_STARTS) -> None:
        self._limit = limit
        self._sessions: dict[str, OrderedDict[str, list[Accepted]]] = {}

    def repeat(self, session: Session, ref: str | None) -> bool:
        """True when `ref` was accepted before in this session: its `run.accepted`s are sent
        again and nothing starts. False (a start with no ref, or a new one): go ahead."""
        refs = self._sessions.get(session.id)
        runs = None if ref is None or refs is None else refs.get(ref)
        if runs is None:
            return False
        for run in runs:
            session.emit(RunAccepted, run=run.run, ref=ref, **run.fields)
        return True

    def record(self, session: Session, run: Run, ref: str | None) -> None:
        """Remember an accepted run under its start's `ref`, forgetting the oldest ref."""
        if ref is None:
            return
        refs = self._sessions.setdefault(session.id, OrderedDict())
        refs.setdefault(ref, []).append(Accepted(run.id, run.accepted()))
        if len(refs) > self._limit:
            refs.popitem(last=False)

    def forget(self, session: Session) -> None:
        self._sessions.pop(session.id, None)
