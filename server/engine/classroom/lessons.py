"""A class in session as its teacher steers it: paused or not, lesson open or ended, its rules.

What the console's controls do (`server/handlers/lessons.py`), kept by class id:

- **Pause** holds the class's runs where they stand in the scheduler's lines: they keep their
  place and get no slot; a job already in a slot finishes (`Scheduler.pause_class`,
  `scheduler/_pause.py`). In memory only: a restarted server has no runs to hold.
- **End the lesson** cancels every run of the class (each ends `run.done` cancelled: "Your
  teacher ended the lesson") and refuses every `run.start` of its members (`lesson_closed`)
  until the teacher opens the next one. Written to the people store first (`classes.
  lesson_open`), so it survives a restart; read once at start-up (`load`).
- **Rules** a teacher changes (`PATCH /api/classes/{id}`) apply to the class's live sessions at
  their next `run.start`: a session's identity holds the rules its socket opened with, so
  `rules(identity)` answers with the class's latest ones once they changed.
- **Cancel** one run of the class: through the run's task, the path a student's own cancel
  takes, so the GPU hears it (the LLM stream closed, the ComfyUI prompt deleted or interrupted).

The pipeline reports each run of a class member (`track`) so that ending a lesson finds its
runs without a search through every session; a run is forgotten when its task ends.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from server.engine.errors import AtelierError
from server.engine.people.identity import ClassRules, Identity
from server.engine.run import Run
from server.protocol import ErrorCode

#: Why a run was cancelled, as a key of `stages/texts.py` (what its student reads).
LESSON_ENDED = "lesson_ended"
TEACHER_CANCELLED = "teacher_cancelled"
CANCELLED = "cancelled"


class LessonClosed(AtelierError):
    """`run.start` of a class member while the class's lesson is ended."""

    code = ErrorCode.LESSON_CLOSED


class LessonStore(Protocol):
    """What lessons keep in the people store (`PeopleStore` is the real one)."""

    async def set_lesson_open(self, class_id: int, is_open: bool) -> bool: ...

    async def closed_lessons(self) -> set[int]: ...


class ClassPauses(Protocol):
    """What lessons ask of the scheduler (`Scheduler` is the real one)."""

    def class_paused(self, class_id: int) -> bool: ...

    def pause_class(self, class_id: int) -> None: ...

    def resume_class(self, class_id: int) -> None: ...


class Lessons:
    """Made with the pipeline's services (`Services.lessons`, app key `LESSONS`)."""

    def __init__(self, scheduler: ClassPauses) -> None:
        self._scheduler = scheduler
        self._store: LessonStore | None = None  # None: ended lessons last until a restart
        self._closed: set[int] = set()
        self._rules: dict[int, ClassRules] = {}  # class id -> its rules since they changed
        self._runs: dict[int, dict[str, tuple[Run, asyncio.Task[None]]]] = {}
        self._why: dict[str, str] = {}  # run id -> why a teacher cancelled it

    async def load(self, store: LessonStore) -> None:
        """Keep ended lessons in `store` from now on, and know the ones it holds already."""
        self._store = store
        self._closed = await store.closed_lessons()

    # -- state

    def paused(self, class_id: int) -> bool:
        return self._scheduler.class_paused(class_id)

    def lesson_open(self, class_id: int) -> bool:
        return class_id not in self._closed

    def pause(self, class_id: int) -> None:
        self._scheduler.pause_class(class_id)

    def resume(self, class_id: int) -> None:
        self._scheduler.resume_class(class_id)

    async def end(self, class_id: int) -> int:
        """End the lesson: refuse new runs, cancel every run of the class; how many."""
        if self._store is not None:
            await self._store.set_lesson_open(class_id, False)
        self._closed.add(class_id)
        return sum(
            self.cancel_run(class_id, run.id, LESSON_ENDED) for run in self.runs_of_class(class_id)
        )

    async def open(self, class_id: int) -> None:
        """Start the next lesson: runs may start again, none is held."""
        if self._store is not None:
            await self._store.set_lesson_open(class_id, True)
        self._closed.discard(class_id)
        self.resume(class_id)

    # -- rules

    def rules(self, identity: Identity) -> ClassRules | None:
        """The identity's class's current rules (the latest a teacher set), else its own."""
        if identity.class_id is None:
            return identity.rules
        return self._rules.get(identity.class_id, identity.rules)

    def set_rules(self, class_id: int, rules: ClassRules) -> None:
        self._rules[class_id] = rules

    def admit(self, identity: Identity) -> ClassRules | None:
        """`run.start`'s question: refused while the lesson is ended, else the current rules."""
        if identity.class_id is not None and identity.class_id in self._closed:
            raise LessonClosed("your teacher has ended the lesson")
        return self.rules(identity)

    # -- runs

    def track(self, run: Run, task: asyncio.Task[None]) -> None:
        """Pipeline hook: a started run; one of a class member's is kept until its task ends."""
        class_id = run.session.identity.class_id
        if class_id is None:
            return
        runs = self._runs.setdefault(class_id, {})
        runs[run.id] = (run, task)
        task.add_done_callback(lambda _: self._forget(class_id, run.id))

    def _forget(self, class_id: int, run_id: str) -> None:
        self._why.pop(run_id, None)
        runs = self._runs.get(class_id)
        if runs is not None:
            runs.pop(run_id, None)
            if not runs:
                del self._runs[class_id]

    def runs_of_class(self, class_id: int) -> list[Run]:
        """The class's runs that have not ended, oldest first."""
        return [run for run, _ in self._runs.get(class_id, {}).values() if not run.finished]

    def cancel_run(self, class_id: int, run_id: str, why: str = TEACHER_CANCELLED) -> bool:
        """Cancel a run of the class (its student reads `why`); False if it is none of the
        class's runs, or has ended already."""
        tracked = self._runs.get(class_id, {}).get(run_id)
        if tracked is None or tracked[0].finished:
            return False
        self._why[run_id] = why
        tracked[1].cancel()
        return True

    def why_cancelled(self, run_id: str) -> str:
        """The pipeline's question when a run ends cancelled: the key of what its student reads."""
        return self._why.pop(run_id, CANCELLED)
