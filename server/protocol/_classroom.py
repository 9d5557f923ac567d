"""The teacher's live class view on the socket: `class.watch`, `class.unwatch` (client) and
the parts of `class.state` and `class.run` (server; those are in `_server.py` with every
server message).

Kept apart from the students' messages: only a teacher's socket sends or receives these, and
the server sends them live only (`seq` 0, never logged or replayed: docs/protocol.md says why).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from server.protocol._vocabulary import Message, RunStatus, StageName

#: Class ids are SQLite row ids: positive, and far below this.
MAX_CLASS_ID = 2**53 - 1


class _ClientBase(Message):
    """Strict like every client message (`_client.ClientMessageBase`, which imports this)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ClassWatch(_ClientBase):
    type: Literal["class.watch"]
    class_id: Annotated[int, Field(ge=1, le=MAX_CLASS_ID)]


class ClassUnwatch(_ClientBase):
    type: Literal["class.unwatch"]


class ClassStudent(Message):
    """One member of the class as the console lists them."""

    member: int
    nickname: str
    #: Whether the student has a socket open now (a page open, idle or running).
    online: bool
    #: The teacher locked the nickname (nobody joins under it until it is unlocked).
    locked: bool


class ClassRunView(Message):
    """One run of a class member as the console shows it; the text of its current stage is
    `text[:at] + piece` of what the console holds (at 0: the whole text)."""

    run: str
    member: int | None
    nickname: str | None
    perspective: str
    prompt: str
    status: RunStatus
    stage: StageName | None
    at: int
    piece: str
    place: int | None
    length: int | None
    eta: float | None
    paused: bool
    progress: int | None
    progress_max: int | None
    preview: bool
    preview_mime: str | None
    preview_data: str | None
    reason: str | None
    done: bool
    group: str | None
