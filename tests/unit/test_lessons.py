"""`Lessons` on its own: an ended lesson refuses a member's run, the latest rules win over a
session's, a teacher's cancel reaches only the class's live runs and says why."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.engine.classroom.lessons import (
    CANCELLED,
    LESSON_ENDED,
    TEACHER_CANCELLED,
    LessonClosed,
    Lessons,
)
from server.engine.people.identity import ClassRules, Identity
from server.engine.run import Run, RunInputs
from server.protocol import ErrorCode, Role, RunStatus, ServerEvent

MIKA = Identity(Role.STUDENT, "m-1", "Mika", 1, "4b", ClassRules(max_runs_in_flight=2))
NOAH = Identity(Role.STUDENT, "m-2", "Noah", 2, "5a")
GUEST = Identity(Role.STUDENT, "g-x")


class FakeScheduler:
    def __init__(self) -> None:
        self.paused: set[int] = set()

    def class_paused(self, class_id: int) -> bool:
        return class_id in self.paused

    def pause_class(self, class_id: int) -> None:
        self.paused.add(class_id)

    def resume_class(self, class_id: int) -> None:
        self.paused.discard(class_id)


class FakeStore:
    def __init__(self, closed: set[int]) -> None:
        self.closed = set(closed)

    async def set_lesson_open(self, class_id: int, is_open: bool) -> bool:
        (self.closed.discard if is_open else self.closed.add)(class_id)
        return True

    async def closed_lessons(self) -> set[int]:
        return set(self.closed)


class FakeSession:
    def __init__(self, identity: Identity) -> None:
        self.id = "s-" + identity.key
        self.identity = identity

    def emit(self, message_type: type[ServerEvent], **fields: Any) -> object:
        return None


def a_run(identity: Identity) -> Run:
    inputs = RunInputs("a fox", "bauhaus", "image", "", False, 1, None, None, "en")
    return Run(f"r-{identity.key}", FakeSession(identity), inputs)


async def until_cancelled() -> None:
    """A run's task that waits until it is cancelled."""
    await asyncio.Event().wait()


async def tracked(lessons: Lessons, identity: Identity) -> tuple[Run, asyncio.Task[None]]:
    run = a_run(identity)
    task = asyncio.create_task(until_cancelled())
    lessons.track(run, task)
    return run, task


def test_an_ended_lesson_refuses_its_members_only() -> None:
    lessons = Lessons(FakeScheduler())
    asyncio.run(lessons.end(1))
    with pytest.raises(LessonClosed) as refused:
        lessons.admit(MIKA)
    assert refused.value.code is ErrorCode.LESSON_CLOSED
    assert lessons.admit(NOAH) is None  # another class
    assert lessons.admit(GUEST) is None
    assert not lessons.lesson_open(1)
    asyncio.run(lessons.open(1))
    assert lessons.admit(MIKA) == MIKA.rules


def test_ended_lessons_are_written_and_read_back() -> None:
    store = FakeStore({2})
    lessons = Lessons(FakeScheduler())
    asyncio.run(lessons.load(store))
    assert (lessons.lesson_open(1), lessons.lesson_open(2)) == (True, False)
    asyncio.run(lessons.end(1))
    asyncio.run(lessons.open(2))
    assert store.closed == {1}


def test_the_rules_a_teacher_set_last_win_over_the_sessions_own() -> None:
    lessons = Lessons(FakeScheduler())
    assert lessons.rules(MIKA) == MIKA.rules
    stricter = ClassRules(perspectives=["passthrough"], safety_level="kids")
    lessons.set_rules(1, stricter)
    assert lessons.rules(MIKA) == stricter
    assert lessons.admit(MIKA) == stricter
    assert lessons.rules(NOAH) is None  # another class keeps its own
    assert lessons.rules(GUEST) is None


def test_pause_and_open_go_to_the_scheduler() -> None:
    scheduler = FakeScheduler()
    lessons = Lessons(scheduler)
    lessons.pause(1)
    assert lessons.paused(1)
    assert not lessons.paused(2)
    asyncio.run(lessons.open(1))  # the next lesson holds nothing
    assert not lessons.paused(1)


async def test_ending_cancels_the_classs_live_runs_and_says_why() -> None:
    lessons = Lessons(FakeScheduler())
    mine, mine_task = await tracked(lessons, MIKA)
    theirs, their_task = await tracked(lessons, NOAH)
    assert (lessons.runs_of_class(1), lessons.runs_of_class(2)) == ([mine], [theirs])
    assert await lessons.end(1) == 1
    assert lessons.why_cancelled(mine.id) == LESSON_ENDED
    assert lessons.why_cancelled(mine.id) == CANCELLED  # asked once
    await asyncio.gather(mine_task, return_exceptions=True)
    assert mine_task.cancelled()
    assert not their_task.done()
    assert lessons.runs_of_class(1) == []
    their_task.cancel()
    await asyncio.gather(their_task, return_exceptions=True)
    assert lessons.runs_of_class(2) == []


async def test_a_teacher_cancels_only_a_live_run_of_their_class() -> None:
    lessons = Lessons(FakeScheduler())
    theirs, their_task = await tracked(lessons, NOAH)
    assert not lessons.cancel_run(1, theirs.id)  # not class 1's
    assert not lessons.cancel_run(2, "r-unknown")
    theirs.move(RunStatus.RUNNING)
    theirs.finish(RunStatus.COMPLETED)
    assert not lessons.cancel_run(2, theirs.id)  # ended, its task still writing the record
    assert not their_task.cancelled()
    their_task.cancel()
    await asyncio.gather(their_task, return_exceptions=True)
    mine, mine_task = await tracked(lessons, MIKA)
    assert lessons.cancel_run(1, mine.id)
    assert lessons.why_cancelled(mine.id) == TEACHER_CANCELLED  # the pipeline asks, in the task
    await asyncio.gather(mine_task, return_exceptions=True)
    assert mine_task.cancelled()


async def test_a_guests_run_is_not_tracked() -> None:
    lessons = Lessons(FakeScheduler())
    run, task = await tracked(lessons, GUEST)
    assert not lessons.cancel_run(0, run.id)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
