"""The class hub: what a teacher's console sees of their class live, and the wall's feed.

Every run of a class member reports to the hub through its `tap` (`Pipeline` calls
`run_started`): the tap is the run's class (`live_class.ClassLive`), which keeps the latest
state of each run (never a log) and sends watching consoles coalesced `class.run` updates.
The hub adds who watches what: a teacher may watch only their own classes (checked against
the people store in a task of its own, so the socket's read loop never waits on it), at most
`MAX_WATCHED_CLASSES` at once; and which member sessions are open, for the online flags.

Class messages are live-only (`seq` 0, never in the session's replay log): a console that
comes back sends `class.watch` again and gets a fresh `class.state` (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.engine.classroom.live import member_id
from server.engine.classroom.live_class import ClassLive, LessonView, push
from server.engine.classroom.wall import WallEvent, WallFeed
from server.engine.errors import AtelierError
from server.engine.people.rows import ClassRow, MemberRow
from server.engine.run import Run
from server.engine.session import Session
from server.protocol import ClassPicture, Error, ErrorCode, encode

#: Classes one teacher session may watch at once (a console shows one; a few tabs' worth).
MAX_WATCHED_CLASSES = 4


class UnknownClass(AtelierError):
    """Not a class, or another teacher's: the same answer, so ids reveal nothing."""

    code = ErrorCode.UNKNOWN_CLASS


class TooManyClasses(AtelierError):
    code = ErrorCode.TOO_MANY_CLASSES


class ClassDirectory(Protocol):
    """What the hub reads of the people store (`PeopleStore` is the real one)."""

    async def get_class(self, class_id: int) -> ClassRow | None: ...

    async def members_of(self, class_id: int) -> list[MemberRow]: ...


@dataclass(slots=True)
class _Watch:
    """One teacher session's watching: which classes, and a counter that makes a watch
    whose lookup was still under way when the session unwatched come to nothing."""

    classes: set[int] = field(default_factory=set)
    generation: int = 0


_TOO_MANY = f"one console may watch at most {MAX_WATCHED_CLASSES} classes"


def _full(watch: _Watch | None, class_id: int) -> bool:
    """Whether watching `class_id` too would be more classes than one console may watch."""
    if watch is None or class_id in watch.classes:
        return False
    return len(watch.classes) >= MAX_WATCHED_CLASSES


class ClassHub:
    """Made once per server in `server/wiring.py`; `services.classes`, app key `CLASSES`."""

    def __init__(self, wall: WallFeed | None = None) -> None:
        #: The wall's live feed (the wall's handlers subscribe to it directly).
        self.wall = wall or WallFeed()
        #: The people store; set when the app publishes the pipeline (`server/app.py`).
        self.directory: ClassDirectory | None = None
        #: The lesson state; None: never paused, always open.
        self.lessons: LessonView | None = None
        self._classes: dict[int, ClassLive] = {}
        self._watches: dict[str, _Watch] = {}  # session id -> its watching
        self._tasks: set[asyncio.Task[None]] = set()
        self._refreshing: set[int] = set()  # classes whose fresh state is being read
        self._stale: set[int] = set()  # ... and changed again since that read began

    def live(self, class_id: int) -> ClassLive:
        """The class's live state (made on first use)."""
        live = self._classes.get(class_id)
        if live is None:
            live = self._classes[class_id] = ClassLive(class_id, self)
        return live

    # -- engine hooks

    def session_opened(self, session: Session) -> None:
        """Registry hook: a class member's session counts for the class's online flags."""
        identity = session.identity
        member = member_id(identity.key)
        if identity.class_id is None or member is None:
            return
        live = self.live(identity.class_id)
        live.sessions.add(session)
        if identity.nickname is not None:
            live.members.setdefault(member, identity.nickname)
        session.on_close(self._member_session_closed)

    async def _member_session_closed(self, session: Session) -> None:
        if session.identity.class_id is not None:
            self.live(session.identity.class_id).sessions.discard(session)

    def run_started(self, run: Run) -> None:
        """Pipeline hook: a run of a class member reports to its class from now on."""
        class_id = run.session.identity.class_id
        if class_id is not None:
            self.live(class_id).add_run(run)

    # -- watching

    def request_watch(self, session: Session, class_id: int) -> None:
        """`class.watch`: check in the people store that the class is this teacher's, then
        watch it (its `class.state` goes out) or answer `unknown_class`."""
        watch = self._watches.get(session.id) or _Watch()
        if _full(watch, class_id):
            raise TooManyClasses(_TOO_MANY)
        self._spawn(self._checked_watch(session, class_id, watch.generation))

    async def _checked_watch(self, session: Session, class_id: int, generation: int) -> None:
        try:
            row, members = await self._lookup(session, class_id)
        except UnknownClass as exc:
            push(session, encode(Error(seq=0, code=ErrorCode.UNKNOWN_CLASS, message=str(exc))))
            return
        watch = self._watches.get(session.id)
        if watch is not None and watch.generation != generation:
            return  # unwatched while it was looked up
        if _full(watch, class_id):  # a burst of class.watch passed the first check at once
            error = Error(seq=0, code=ErrorCode.TOO_MANY_CLASSES, message=_TOO_MANY)
            push(session, encode(error))
            return
        live = self.live(class_id)
        live.name = row.name
        live.take_members(members)
        self.watch(class_id, session)

    async def _lookup(self, session: Session, class_id: int) -> tuple[ClassRow, list[MemberRow]]:
        directory = self.directory
        row = None if directory is None else await directory.get_class(class_id)
        if directory is None or row is None or session.identity.key != f"t-{row.teacher_id}":
            raise UnknownClass(f"you have no class with the id {class_id}")
        return row, await directory.members_of(class_id)

    def watch(self, class_id: int, session: Session) -> None:
        """Watch a class whose teacher `session` was checked to be (`request_watch` checks);
        its `class.state` goes out at once."""
        watch = self._watches.get(session.id)
        if watch is None:
            watch = self._watches[session.id] = _Watch()
            session.on_close(self._watcher_closed)
        watch.classes.add(class_id)
        self.live(class_id).add_watcher(session)

    def unwatch(self, session: Session) -> None:
        """`class.unwatch`, or the session closed: it watches nothing from now on."""
        watch = self._watches.get(session.id)
        if watch is None:
            return
        watch.generation += 1
        for class_id in watch.classes:
            self.live(class_id).remove_watcher(session)
        watch.classes.clear()

    async def _watcher_closed(self, session: Session) -> None:
        self.unwatch(session)
        self._watches.pop(session.id, None)

    def watched_by(self, session: Session) -> frozenset[int]:
        watch = self._watches.get(session.id)
        return frozenset() if watch is None else frozenset(watch.classes)

    # -- changes from the controls

    def class_changed(self, class_id: int) -> None:
        """Paused, resumed, ended, rules or members changed: watchers get a fresh state
        (the name and members read again from the store first). One refresh per class at
        a time: a change meanwhile (a teacher clicking pause again and again) is one more
        read once it ends, not a read and a state to every watcher per click."""
        live = self._classes.get(class_id)
        if live is None or not live.watchers:
            return
        if class_id in self._refreshing:
            self._stale.add(class_id)
            return
        self._refreshing.add(class_id)
        self._spawn(self._refreshed(live))

    async def _refreshed(self, live: ClassLive) -> None:
        try:
            await self._refresh(live)
            while live.class_id in self._stale:
                self._stale.discard(live.class_id)
                await self._refresh(live)
        finally:
            self._refreshing.discard(live.class_id)
            self._stale.discard(live.class_id)

    async def _refresh(self, live: ClassLive) -> None:
        directory = self.directory
        if directory is not None:
            row = await directory.get_class(live.class_id)
            members = await directory.members_of(live.class_id)
            live.name = live.name if row is None else row.name
            live.take_members(members)
        live.resend_state()

    def publish(self, class_id: int, event: WallEvent) -> None:
        """A picture of the class was made, hidden, shown or flagged: to its walls and to
        its watching consoles. Never awaits."""
        self.wall.publish(class_id, event)
        live = self._classes.get(class_id)
        if live is not None and live.watchers:
            live.send(
                ClassPicture(
                    seq=0, class_id=class_id, kind=event.kind, run=event.run, picture=event.picture
                )
            )

    # -- tasks

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settled(self) -> None:
        """Until every lookup under way has ended (tests wait on it instead of sleeping)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        """Shutdown: stop every timer and lookup."""
        for live in self._classes.values():
            live.stop()
        for task in list(self._tasks):
            task.cancel()
        await self.settled()
