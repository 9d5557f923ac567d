"""A teacher's controls of a class in session over HTTP: pause and resume its queue, end the
lesson and open the next, cancel one run (`server/engine/classroom/lessons.py` does each).

Every route is `POST /api/classes/{id}/...` without a body, for the class's teacher only
(`classes.own_class`: another teacher's class is 404 `not_found` like one that does not exist,
anyone but a teacher 403 `teachers_only`), CSRF-checked like every unsafe call, and answers
with the class's `ClassInfo`, whose `paused` and `lesson_open` say what now holds. After a
change the teachers watching the class get a fresh `class.state` (`ClassHub.class_changed`);
a cancelled run tells them itself (its `run.done`).
"""

from __future__ import annotations

import re

import structlog
from aiohttp import web

from server.engine.classroom.lessons import Lessons
from server.engine.people.rows import ClassRow
from server.handlers.answers import answer
from server.handlers.classes import class_info, own_class, with_lesson
from server.handlers.keys import CLASSES, LESSONS
from server.handlers.problems import problem
from server.protocol._http import ApiErrorCode

log = structlog.get_logger(__name__)

#: What a run id looks like (`run.new_run_id`: "r-" and 12 URL-safe characters), bounded.
RUN_ID = re.compile(r"r-[A-Za-z0-9_-]{1,40}")


def lessons_of(request: web.Request) -> Lessons:
    """The lessons, once the pipeline runs; 503 `unavailable` before (or without) it."""
    lessons = request.app.get(LESSONS)
    if lessons is None:
        raise problem(request, ApiErrorCode.UNAVAILABLE)
    return lessons


def _answer(request: web.Request, klass: ClassRow, *, changed: bool = True) -> web.Response:
    hub = request.app.get(CLASSES)
    if changed and hub is not None:
        hub.class_changed(klass.id)
    return answer(with_lesson(request, class_info(klass)))


async def pause(request: web.Request) -> web.Response:
    """`POST .../pause`: the class's waiting runs keep their place and get no slot."""
    klass = await own_class(request)
    lessons_of(request).pause(klass.id)
    log.info("class_paused", class_id=klass.id)
    return _answer(request, klass)


async def resume(request: web.Request) -> web.Response:
    klass = await own_class(request)
    lessons_of(request).resume(klass.id)
    log.info("class_resumed", class_id=klass.id)
    return _answer(request, klass)


async def end(request: web.Request) -> web.Response:
    """`POST .../end`: every run of the class is cancelled, new ones are refused."""
    klass = await own_class(request)
    cancelled = await lessons_of(request).end(klass.id)
    log.info("lesson_ended", class_id=klass.id, cancelled=cancelled)
    return _answer(request, klass)


async def open_lesson(request: web.Request) -> web.Response:
    """`POST .../open`: the next lesson; runs start again, none is held."""
    klass = await own_class(request)
    await lessons_of(request).open(klass.id)
    log.info("lesson_opened", class_id=klass.id)
    return _answer(request, klass)


async def cancel_run(request: web.Request) -> web.Response:
    """`POST .../runs/{run}/cancel`: one run of the class; 404 for a run that is not the
    class's or has ended."""
    klass = await own_class(request)
    run_id = request.match_info["run"]
    lessons = lessons_of(request)
    if not RUN_ID.fullmatch(run_id) or not lessons.cancel_run(klass.id, run_id):
        raise problem(request, ApiErrorCode.NOT_FOUND)
    log.info("run_cancelled_by_teacher", class_id=klass.id, run=run_id)
    return _answer(request, klass, changed=False)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/api/classes/{id}/pause", pause)
    router.add_post("/api/classes/{id}/resume", resume)
    router.add_post("/api/classes/{id}/end", end)
    router.add_post("/api/classes/{id}/open", open_lesson)
    router.add_post("/api/classes/{id}/runs/{run}/cancel", cancel_run)
