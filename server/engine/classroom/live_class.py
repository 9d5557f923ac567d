"""One class as the console sees it live: its members' runs, sessions and watching consoles.

A `ClassLive` is the tap of every run of its class (`run.RunTap`): each event updates the
run's `LiveRun`, and while a console watches, the run is marked changed and one timer flushes
the marked runs as one `class.run` (`FLUSHES_PER_SECOND` at most). While nobody watches, a
token costs one set's truth test. Nothing here awaits: a send is a push into the console's
bounded outbox (`server/engine/connection.py`), whose overflow closes that console's socket.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import structlog

from server.engine.classroom.live import LiveRun, member_id
from server.engine.people.rows import MemberRow
from server.engine.run import Run
from server.engine.session import Session, SessionState
from server.protocol import ClassRun, ClassState, ClassStudent, RunDone, ServerEvent, encode

log = structlog.get_logger(__name__)

#: How often a watched class's changed runs go out at most.
FLUSHES_PER_SECOND = 10
#: How often a watched class's online flags are looked at (a change sends a `class.state`).
ONLINE_CHECK_SECONDS = 1.0
#: Finished runs kept per member for the console (the latest results beside the live one).
KEPT_FINISHED_PER_MEMBER = 2


class LessonView(Protocol):
    """What a class's state reads of the lesson (`classroom.lessons.Lessons`)."""

    def paused(self, class_id: int) -> bool: ...

    def lesson_open(self, class_id: int) -> bool: ...


class HasLessons(Protocol):
    """Where the lesson state is found (the hub, which gets it once the pipeline is made)."""

    @property
    def lessons(self) -> LessonView | None: ...


class ClassLive:
    """One class's live state; its runs' tap. Plain calls from the event loop."""

    def __init__(self, class_id: int, source: HasLessons) -> None:
        self.class_id = class_id
        self._source = source
        self.name = ""
        self.members: dict[int, str] = {}  # member id -> nickname
        self.locked: set[int] = set()  # members whose nickname the teacher locked
        self.runs: dict[str, LiveRun] = {}
        self.sessions: set[Session] = set()
        self.watchers: set[Session] = set()
        self.dirty: set[str] = set()
        self.online: frozenset[int] = frozenset()
        self._flush: asyncio.TimerHandle | None = None
        self._online_check: asyncio.TimerHandle | None = None

    # -- the runs' tap (never raises into a run: a bug here must not end a student's run)

    def event(self, run: Run, message_type: type[ServerEvent], fields: dict[str, Any]) -> None:
        try:
            live_run = self.runs.get(run.id)
            if live_run is None:
                return
            live_run.event(message_type, fields)
            self.mark_changed(run.id)
            if message_type is RunDone:
                self._keep_finished(live_run.member)
        except Exception:
            log.exception("class_tap_failed", run=run.id)

    def token(self, run: Run, clear: bool) -> None:
        if not self.watchers:
            return
        if clear and (live_run := self.runs.get(run.id)) is not None:
            live_run.reset = True
        self.mark_changed(run.id)

    def add_run(self, run: Run) -> None:
        self.runs[run.id] = LiveRun(run)
        run.tap = self
        self.mark_changed(run.id)

    def mark_changed(self, run_id: str) -> None:
        """Mark a run changed and arm the flush, when someone watches."""
        if not self.watchers:
            return
        self.dirty.add(run_id)
        if self._flush is None:
            loop = asyncio.get_running_loop()
            self._flush = loop.call_later(1 / FLUSHES_PER_SECOND, self._flush_now)

    def _flush_now(self) -> None:
        self._flush = None
        views = [self.runs[r].view(whole=False) for r in self.dirty if r in self.runs]
        self.dirty.clear()
        if views:
            self.send(ClassRun(seq=0, class_id=self.class_id, runs=views))

    def _keep_finished(self, member: int | None) -> None:
        """Forget a member's oldest finished runs beyond `KEPT_FINISHED_PER_MEMBER`."""
        done = [r for r in self.runs.values() if r.member == member and r.run.finished]
        for old in done[: max(0, len(done) - KEPT_FINISHED_PER_MEMBER)]:
            del self.runs[old.run.id]
            self.dirty.discard(old.run.id)

    # -- watchers

    def add_watcher(self, session: Session) -> None:
        """A checked teacher session watches from now on; it gets the state at once."""
        self.watchers.add(session)
        self.online = self.online_members()
        self._arm_online_check()
        push(session, encode(self.state()))

    def remove_watcher(self, session: Session) -> None:
        self.watchers.discard(session)
        if not self.watchers:
            self.stop()

    def stop(self) -> None:
        """No one watches (or shutdown): no timer runs and nothing is marked."""
        for timer in (self._flush, self._online_check):
            if timer is not None:
                timer.cancel()
        self._flush = self._online_check = None
        self.dirty.clear()

    def send(self, message: ServerEvent) -> None:
        """To every watcher with a socket now (a detached one watches again when it comes
        back); encoded once for all of them, and not at all when none has a socket."""
        connections = [s.connection for s in self.watchers if s.connection is not None]
        if connections:
            data = encode(message)
            for connection in connections:
                connection.push(data)

    def take_members(self, members: list[MemberRow]) -> None:
        """The class's members as the store has them now (one missing was removed)."""
        self.members = {m.id: m.nickname for m in members}
        self.locked = {m.id for m in members if m.locked}

    def resend_state(self) -> None:
        self.online = self.online_members()
        self.send(self.state())

    # -- online flags

    def online_members(self) -> frozenset[int]:
        return frozenset(
            m
            for s in self.sessions
            if s.state is SessionState.ATTACHED and (m := member_id(s.identity.key)) is not None
        )

    def _arm_online_check(self) -> None:
        if self._online_check is None:
            loop = asyncio.get_running_loop()
            self._online_check = loop.call_later(ONLINE_CHECK_SECONDS, self._check_online)

    def _check_online(self) -> None:
        self._online_check = None
        if not self.watchers:
            return
        if self.online_members() != self.online:
            self.resend_state()
        self._arm_online_check()

    # -- the class in full

    def state(self) -> ClassState:
        """The class's `class.state`: members, their runs, the class's line in order."""
        lessons, class_id = self._source.lessons, self.class_id
        waiting = sorted((r for r in self.runs.values() if r.waiting), key=_line_order)
        return ClassState(
            seq=0,
            class_id=class_id,
            name=self.name,
            paused=False if lessons is None else lessons.paused(class_id),
            lesson_open=True if lessons is None else lessons.lesson_open(class_id),
            students=[
                ClassStudent(
                    member=m, nickname=name, online=m in self.online, locked=m in self.locked
                )
                for m, name in sorted(self.members.items(), key=lambda item: item[1].lower())
            ],
            # Not the runs of a member removed meanwhile (their runs are deleted with them).
            runs=[r.view(whole=True) for r in self.runs.values() if r.member in self.members],
            queue=[r.run.id for r in waiting],
        )


def _line_order(live_run: LiveRun) -> tuple[bool, int]:
    """Runs waiting for a slot by their place; runs waiting behind their own runs after."""
    return (live_run.queue_stage is None, live_run.place or 0)


def push(session: Session, data: bytes) -> None:
    """To the session's socket if it has one now; a detached console gets a fresh state
    when it watches again. A full outbox closes that socket (the connection's rule)."""
    connection = session.connection
    if connection is not None:
        connection.push(data)
