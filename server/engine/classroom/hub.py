"""The class hub: what a teacher's console sees of their class live, and the wall's feed.

Every run of a class member reports to the hub through its `tap` (`Pipeline.start` calls
`run_started`). The hub keeps the latest state of each run (`live.LiveRun`), never a log, and
a watching teacher's socket gets it coalesced: a changed run is only marked, and one timer per
watched class flushes the marked runs as one `class.run` at most `FLUSHES_PER_SECOND` times a
second. While nobody watches a class a token costs one attribute test. What goes to a teacher
goes through their connection's bounded outbox (`server/engine/connection.py`), so a console
that stops reading is dropped and can never hold up a student's run: the hub never awaits on
a run's path.

Class messages are live-only (`seq` 0, never in the session's replay log): a console that
comes back sends `class.watch` again and gets a fresh `class.state` (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from server.engine.classroom.live import LiveRun, member_id
from server.engine.classroom.wall import WallEvent, WallFeed
from server.engine.errors import AtelierError
from server.engine.people.rows import ClassRow, MemberRow
from server.engine.run import Run
from server.engine.session import Session, SessionState
from server.protocol import (
    ClassPicture,
    ClassRun,
    ClassState,
    ClassStudent,
    Error,
    ErrorCode,
    RunDone,
    ServerEvent,
    encode,
)

log = structlog.get_logger(__name__)

#: Classes one teacher session may watch at once (a console shows one; a few tabs' worth).
MAX_WATCHED_CLASSES = 4
#: How often a watched class's changed runs go out at most.
FLUSHES_PER_SECOND = 10
#: How often a watched class's online flags are looked at (a change sends a `class.state`).
ONLINE_CHECK_SECONDS = 1.0
#: Finished runs the hub keeps per member for the console (the latest result beside the live).
KEPT_FINISHED_PER_MEMBER = 2


class UnknownClass(AtelierError):
    """Not a class, or another teacher's: the same answer, so ids reveal nothing."""

    code = ErrorCode.UNKNOWN_CLASS


class TooManyClasses(AtelierError):
    code = ErrorCode.TOO_MANY_CLASSES


class ClassDirectory(Protocol):
    """What the hub reads of the people store (`PeopleStore` is the real one)."""

    async def get_class(self, class_id: int) -> ClassRow | None: ...

    async def members_of(self, class_id: int) -> list[MemberRow]: ...


class LessonView(Protocol):
    """What the hub reads of the lesson state (`classroom.lessons.Lessons`)."""

    def paused(self, class_id: int) -> bool: ...

    def lesson_open(self, class_id: int) -> bool: ...


@dataclass(slots=True)
class _Watch:
    """One teacher session's watching: which classes, and a counter that makes a watch
    whose lookup was still under way when the session unwatched come to nothing."""

    session: Session
    classes: set[int] = field(default_factory=set)
    generation: int = 0


class ClassLive:
    """One class as the hub knows it: its runs, its members' sessions, its watchers."""

    def __init__(self, class_id: int) -> None:
        self.class_id = class_id
        self.name = ""
        self.members: dict[int, str] = {}  # member id -> nickname
        self.runs: dict[str, LiveRun] = {}
        self.sessions: set[Session] = set()
        self.watchers: set[Session] = set()
        self.dirty: set[str] = set()
        self.flush: asyncio.TimerHandle | None = None
        self.online_check: asyncio.TimerHandle | None = None
        self.online: frozenset[int] = frozenset()

    def online_members(self) -> frozenset[int]:
        return frozenset(
            m
            for s in self.sessions
            if s.state is SessionState.ATTACHED and (m := member_id(s.identity.key)) is not None
        )

    def keep_finished(self, member: int | None) -> None:
        """Forget a member's oldest finished runs beyond `KEPT_FINISHED_PER_MEMBER`."""
        done = [r for r in self.runs.values() if r.member == member and r.run.finished]
        for old in done[: max(0, len(done) - KEPT_FINISHED_PER_MEMBER)]:
            del self.runs[old.run.id]
            self.dirty.discard(old.run.id)


class ClassHub:
    """Made once per server in `server/wiring.py`; `services.classes`, app key `CLASSES`."""

    def __init__(self, wall: WallFeed | None = None) -> None:
        #: The wall's live feed (H-WALL's handlers subscribe to it directly).
        self.wall = wall or WallFeed()
        #: The people store; set when the app publishes the pipeline (`server/app.py`).
        self.directory: ClassDirectory | None = None
        #: The lesson state; None: never paused, always open.
        self.lessons: LessonView | None = None
        self._classes: dict[int, ClassLive] = {}
        self._watches: dict[str, _Watch] = {}  # session id -> its watching
        self._tasks: set[asyncio.Task[None]] = set()

    def _class(self, class_id: int) -> ClassLive:
        live = self._classes.get(class_id)
        if live is None:
            live = self._classes[class_id] = ClassLive(class_id)
        return live

    # -- sessions and runs (engine hooks)

    def session_opened(self, session: Session) -> None:
        """Registry hook: a class member's session counts for the class's online flags."""
        identity = session.identity
        member = member_id(identity.key)
        if identity.class_id is None or member is None:
            return
        live = self._class(identity.class_id)
        live.sessions.add(session)
        if identity.nickname is not None:
            live.members.setdefault(member, identity.nickname)
        session.on_close(self._member_session_closed)

    async def _member_session_closed(self, session: Session) -> None:
        if session.identity.class_id is not None:
            self._class(session.identity.class_id).sessions.discard(session)

    def run_started(self, run: Run) -> None:
        """Pipeline hook: a run of a class member reports to the hub from now on."""
        class_id = run.session.identity.class_id
        if class_id is None:
            return
        live = self._class(class_id)
        live.runs[run.id] = LiveRun(run)
        run.tap = _ClassTap(self, live)
        self.mark_changed(live, run.id)

    def mark_changed(self, live: ClassLive, run_id: str) -> None:
        """Mark a run changed and arm the class's flush, when someone watches."""
        if not live.watchers:
            return
        live.dirty.add(run_id)
        if live.flush is None:
            loop = asyncio.get_running_loop()
            live.flush = loop.call_later(1 / FLUSHES_PER_SECOND, self._flush, live)

    def _flush(self, live: ClassLive) -> None:
        live.flush = None
        views = [live.runs[r].view(whole=False) for r in live.dirty if r in live.runs]
        live.dirty.clear()
        if views:
            self._send(live, ClassRun(seq=0, class_id=live.class_id, runs=views))

    # -- watching

    def request_watch(self, session: Session, class_id: int) -> None:
        """`class.watch`: check in the people store that the class is this teacher's, then
        watch it and send its `class.state` (or an `error`): the lookup is awaited in a task
        of its own, so the socket's read loop never waits for the database."""
        watch = self._watches.get(session.id)
        watching = set() if watch is None else watch.classes
        if class_id not in watching and len(watching) >= MAX_WATCHED_CLASSES:
            raise TooManyClasses(f"one console may watch at most {MAX_WATCHED_CLASSES} classes")
        generation = 0 if watch is None else watch.generation
        task = asyncio.create_task(self._checked_watch(session, class_id, generation))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _checked_watch(self, session: Session, class_id: int, generation: int) -> None:
        try:
            row, members = await self._lookup(session, class_id)
        except UnknownClass as exc:
            _send_error(session, exc)
            return
        watch = self._watches.get(session.id)
        if watch is not None and watch.generation != generation:
            return  # unwatched while we looked
        live = self._class(class_id)
        live.name = row.name
        live.members.update({m.id: m.nickname for m in members})
        self.watch(class_id, session)

    async def _lookup(self, session: Session, class_id: int) -> tuple[ClassRow, list[MemberRow]]:
        directory = self.directory
        row = None if directory is None else await directory.get_class(class_id)
        if directory is None or row is None or session.identity.key != f"t-{row.teacher_id}":
            raise UnknownClass(f"you have no class with the id {class_id}")
        return row, await directory.members_of(class_id)

    def watch(self, class_id: int, session: Session) -> None:
        """Watch a class whose teacher `session` was checked to be (`request_watch` checks),
        and send it its `class.state` at once."""
        watch = self._watches.get(session.id)
        if watch is None:
            watch = self._watches[session.id] = _Watch(session)
            session.on_close(self._watcher_closed)
        watch.classes.add(class_id)
        live = self._class(class_id)
        live.watchers.add(session)
        live.online = live.online_members()
        self._arm_online_check(live)
        _push(session, encode(self.state(live)))

    def unwatch(self, session: Session) -> None:
        """`class.unwatch`, or the session closed: it watches nothing from now on."""
        watch = self._watches.get(session.id)
        if watch is None:
            return
        watch.generation += 1
        for class_id in watch.classes:
            live = self._class(class_id)
            live.watchers.discard(session)
            if not live.watchers:
                _stop_timers(live)
        watch.classes.clear()

    async def _watcher_closed(self, session: Session) -> None:
        self.unwatch(session)
        self._watches.pop(session.id, None)

    def watched_by(self, session: Session) -> frozenset[int]:
        watch = self._watches.get(session.id)
        return frozenset() if watch is None else frozenset(watch.classes)

    def _arm_online_check(self, live: ClassLive) -> None:
        if live.online_check is None:
            loop = asyncio.get_running_loop()
            live.online_check = loop.call_later(ONLINE_CHECK_SECONDS, self._check_online, live)

    def _check_online(self, live: ClassLive) -> None:
        live.online_check = None
        if not live.watchers:
            return
        online = live.online_members()
        if online != live.online:
            live.online = online
            self._send(live, self.state(live))
        self._arm_online_check(live)

    # -- the class in full

    def state(self, live: ClassLive) -> ClassState:
        """The class's `class.state`: members, their runs, the class's line in order."""
        lessons = self.lessons
        class_id = live.class_id
        waiting = sorted((r for r in live.runs.values() if r.waiting), key=_line_order)
        return ClassState(
            seq=0,
            class_id=class_id,
            name=live.name,
            paused=False if lessons is None else lessons.paused(class_id),
            lesson_open=True if lessons is None else lessons.lesson_open(class_id),
            students=[
                ClassStudent(member=m, nickname=name, online=m in live.online)
                for m, name in sorted(live.members.items(), key=lambda item: item[1].lower())
            ],
            runs=[r.view(whole=True) for r in live.runs.values()],
            queue=[r.run.id for r in waiting],
        )

    def class_changed(self, class_id: int) -> None:
        """Paused, resumed, ended, rules or members changed: watchers get a fresh state
        (the name and members read again from the store first)."""
        live = self._classes.get(class_id)
        if live is None or not live.watchers:
            return
        task = asyncio.create_task(self._refresh(live))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh(self, live: ClassLive) -> None:
        directory = self.directory
        if directory is not None:
            row = await directory.get_class(live.class_id)
            members = await directory.members_of(live.class_id)
            live.name = live.name if row is None else row.name
            live.members = {m.id: m.nickname for m in members}
        live.online = live.online_members()
        self._send(live, self.state(live))

    # -- pictures

    def publish(self, class_id: int, event: WallEvent) -> None:
        """A picture of the class was made, hidden, shown or flagged: to its walls and to
        its watching consoles. Never awaits, never raises into the caller."""
        self.wall.publish(class_id, event)
        live = self._classes.get(class_id)
        if live is not None and live.watchers:
            message = ClassPicture(
                seq=0, class_id=class_id, kind=event.kind, run=event.run, picture=event.picture
            )
            self._send(live, message)

    # -- sending and closing

    def _send(self, live: ClassLive, message: ServerEvent) -> None:
        data = encode(message)  # once for every watcher
        for session in list(live.watchers):
            _push(session, data)

    async def close(self) -> None:
        """Shutdown: stop every timer and lookup."""
        for live in self._classes.values():
            _stop_timers(live)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class _ClassTap:
    """A class member's run's tap: updates its `LiveRun`, marks it changed for the flush.
    Plain and cheap, and it never raises into the run (a bug here must not end a student's
    run): a failure is logged and the console misses that update."""

    __slots__ = ("hub", "live")

    def __init__(self, hub: ClassHub, live: ClassLive) -> None:
        self.hub, self.live = hub, live

    def event(self, run: Run, message_type: type[ServerEvent], fields: dict[str, Any]) -> None:
        try:
            live_run = self.live.runs.get(run.id)
            if live_run is not None:
                live_run.event(message_type, fields)
            self.hub.mark_changed(self.live, run.id)
            if message_type is RunDone:
                self.live.keep_finished(None if live_run is None else live_run.member)
        except Exception:
            log.exception("class_tap_failed", run=run.id)

    def token(self, run: Run, clear: bool) -> None:
        live = self.live
        if not live.watchers:
            return
        if clear and (live_run := live.runs.get(run.id)) is not None:
            live_run.reset = True
        self.hub.mark_changed(live, run.id)


def _line_order(live_run: LiveRun) -> tuple[bool, int]:
    """Runs waiting for a slot by their place; runs waiting behind their own runs after."""
    return (live_run.queue_stage is None, live_run.place or 0)


def _stop_timers(live: ClassLive) -> None:
    for timer in (live.flush, live.online_check):
        if timer is not None:
            timer.cancel()
    live.flush = live.online_check = None
    live.dirty.clear()


def _push(session: Session, data: bytes) -> None:
    """To the session's socket if it has one now; a detached console gets a fresh state
    when it watches again. A full outbox closes that socket (the connection's rule)."""
    connection = session.connection
    if connection is not None:
        connection.push(data)


def _send_error(session: Session, exc: AtelierError) -> None:
    _push(session, encode(Error(seq=0, code=exc.code, message=str(exc))))
