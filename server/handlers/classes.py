"""Teachers' class management over HTTP: classes, their codes and rules, members, PINs.

Every call here is a teacher's (403 `teachers_only` otherwise), and a teacher sees only their
own classes: someone else's class, or a member of another class, is 404 `not_found`, so ids
cannot be probed. Removing a member or deleting a class also closes their sockets
(`IDENTITY_REVOKED`) and deletes their runs' folders; the store's cascade takes the rest.
"""

from __future__ import annotations

import time

import structlog
from aiohttp import web
from pydantic import ValidationError

from server.engine.classroom.wall import WallEvent
from server.engine.people.class_pictures import retention_within
from server.engine.people.codes import show_code
from server.engine.people.identity import MEMBER_PREFIX, ClassRules, stricter_level
from server.engine.people.rows import ClassRow, MemberRow
from server.handlers.answers import answer
from server.handlers.identity import identity_of, token_of
from server.handlers.keys import CLASSES, LESSONS, PEOPLE, PIPELINE, REGISTRY, SETTINGS
from server.handlers.problems import problem, read_body
from server.protocol import CloseCode
from server.protocol._http import (
    ApiErrorCode,
    ClassChange,
    ClassCreate,
    ClassInfo,
    ClassList,
    CodeRotate,
    MemberInfo,
    MemberList,
    PinInfo,
)

log = structlog.get_logger(__name__)

#: How long a PIN the teacher shows a student lets that student's nickname back in.
PIN_SECONDS = 15 * 60


def teacher_id(request: web.Request) -> int:
    """The calling teacher's id; 403 `teachers_only` for anyone else."""
    identity, token = identity_of(request), token_of(request)
    if identity is None or not identity.is_teacher or token is None:
        raise problem(request, ApiErrorCode.TEACHERS_ONLY)
    return int(token.id)


def _number(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not text.isdecimal() or len(text) > 18:
        raise problem(request, ApiErrorCode.NOT_FOUND)
    return int(text)


async def own_class(request: web.Request) -> ClassRow:
    """The class in the path, if it is the caller's; 404 otherwise."""
    owner = teacher_id(request)
    klass = await request.app[PEOPLE].get_class(_number(request, "id"))
    if klass is None or klass.teacher_id != owner:
        raise problem(request, ApiErrorCode.NOT_FOUND)
    return klass


async def own_member(request: web.Request) -> tuple[ClassRow, MemberRow]:
    klass = await own_class(request)
    member = await request.app[PEOPLE].member(_number(request, "member"))
    if member is None or member.class_id != klass.id:
        raise problem(request, ApiErrorCode.NOT_FOUND)
    return klass, member


def class_info(row: ClassRow) -> ClassInfo:
    rules = row.rules.model_dump(mode="json", exclude_none=True)
    code = show_code(row.code)
    return ClassInfo(
        id=row.id, name=row.name, code=code, code_expires=row.code_expires, rules=rules
    )


def with_lesson(request: web.Request, info: ClassInfo) -> ClassInfo:
    """`info` with what the running server adds: the level the class's runs are checked at
    (never below the operator's) and the class's lesson state (`handlers/lessons.py`); a
    server without a pipeline has no lessons: never paused, always open."""
    chosen = info.rules.get("safety_level")
    level = stricter_level(request.app[SETTINGS].safety_level, chosen)
    info = info.model_copy(update={"safety_level": level})
    lessons = request.app.get(LESSONS)
    if lessons is None:
        return info
    state = {"paused": lessons.paused(info.id), "lesson_open": lessons.lesson_open(info.id)}
    return info.model_copy(update=state)


def _live_rules(request: web.Request, klass: ClassRow) -> None:
    """The class's live sessions start their next run with its new rules; watchers hear."""
    lessons, hub = request.app.get(LESSONS), request.app.get(CLASSES)
    if lessons is not None:
        lessons.set_rules(klass.id, klass.rules)
    if hub is not None:
        hub.class_changed(klass.id)


def _rules(request: web.Request, given: dict[str, object] | None) -> ClassRules:
    """A class's rules from a body: the engine's model bounds them; perspectives must be
    ones the catalog offers."""
    try:
        rules = ClassRules.model_validate(given or {})
    except ValidationError:
        raise problem(request, ApiErrorCode.INVALID_FIELD) from None
    if not retention_within(rules, request.app[SETTINGS].retention_hours):
        raise problem(request, ApiErrorCode.INVALID_FIELD)
    pipeline = request.app.get(PIPELINE)
    known = pipeline.services.catalog.interceptions if pipeline is not None else None
    if rules.perspectives and known is not None and not set(rules.perspectives) <= set(known):
        raise problem(request, ApiErrorCode.UNKNOWN_PERSPECTIVE)
    return rules


def _expires(hours: float | None) -> float | None:
    return None if hours is None else time.time() + hours * 3600


async def list_classes(request: web.Request) -> web.Response:
    rows = await request.app[PEOPLE].classes_of(teacher_id(request))
    return answer(ClassList(classes=[with_lesson(request, class_info(row)) for row in rows]))


async def create_class(request: web.Request) -> web.Response:
    owner = teacher_id(request)
    body = await read_body(request, ClassCreate)
    rules = _rules(request, body.rules)
    expires = _expires(body.code_expires_hours)
    row = await request.app[PEOPLE].create_class(owner, body.name, rules, expires)
    log.info("class_created", teacher=owner, class_id=row.id)
    return answer(with_lesson(request, class_info(row)), status=201)


async def get_class(request: web.Request) -> web.Response:
    return answer(with_lesson(request, class_info(await own_class(request))))


async def change_class(request: web.Request) -> web.Response:
    klass = await own_class(request)
    body = await read_body(request, ClassChange)
    people = request.app[PEOPLE]
    if body.rules is not None:
        klass = await people.set_rules(klass.id, _rules(request, body.rules))
        _live_rules(request, klass)
    if body.name is not None:
        klass = await people.rename_class(klass.id, body.name)
    return answer(with_lesson(request, class_info(klass)))


async def rotate_code(request: web.Request) -> web.Response:
    klass = await own_class(request)
    body = await read_body(request, CodeRotate)
    row = await request.app[PEOPLE].rotate_code(klass.id, _expires(body.code_expires_hours))
    log.info("class_code_rotated", class_id=row.id)
    return answer(with_lesson(request, class_info(row)))


async def delete_class(request: web.Request) -> web.Response:
    klass = await own_class(request)
    people = request.app[PEOPLE]
    members = await people.members_of(klass.id)
    run_ids = await people.delete_class(klass.id)
    for member in members:
        _revoke(request, member)
    await _delete_runs(request, klass.id, run_ids)
    log.info("class_deleted", class_id=klass.id, members=len(members), runs=len(run_ids))
    return web.Response(status=204)


async def list_members(request: web.Request) -> web.Response:
    klass = await own_class(request)
    rows = await request.app[PEOPLE].members_of(klass.id)
    members = [MemberInfo(id=row.id, nickname=row.nickname, locked=row.locked) for row in rows]
    return answer(MemberList(members=members))


async def issue_pin(request: web.Request) -> web.Response:
    _, member = await own_member(request)
    now = time.time()
    pin = await request.app[PEOPLE].issue_pin(member.id, now, PIN_SECONDS)
    return answer(PinInfo(pin=pin, expires=now + PIN_SECONDS))


async def remove_member(request: web.Request) -> web.Response:
    _, member = await own_member(request)
    run_ids = await request.app[PEOPLE].remove_member(member.id)
    _revoke(request, member)
    await _delete_runs(request, member.class_id, run_ids)
    hub = request.app.get(CLASSES)
    if hub is not None:
        hub.class_changed(member.class_id)  # watching consoles list the class without them
    log.info("member_removed", member=member.id, runs=len(run_ids))
    return web.Response(status=204)


def _revoke(request: web.Request, member: MemberRow) -> None:
    """The member's sockets close now; their cookie no longer finds a row."""
    request.app[REGISTRY].close_identity(f"{MEMBER_PREFIX}{member.id}", CloseCode.IDENTITY_REVOKED)


async def _delete_runs(request: web.Request, class_id: int, run_ids: list[str]) -> None:
    """Their folders go, and their pictures leave the class's walls at once."""
    pipeline = request.app.get(PIPELINE)
    if pipeline is not None and run_ids:
        await pipeline.services.records.delete_runs(run_ids)
        for run_id in run_ids:  # a wall ignores a run it does not show
            pipeline.services.classes.publish(class_id, WallEvent(kind="hidden", run=run_id))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/classes", list_classes)
    router.add_post("/api/classes", create_class)
    router.add_get("/api/classes/{id}", get_class)
    router.add_patch("/api/classes/{id}", change_class)
    router.add_delete("/api/classes/{id}", delete_class)
    router.add_post("/api/classes/{id}/code", rotate_code)
    router.add_get("/api/classes/{id}/members", list_members)
    router.add_post("/api/classes/{id}/members/{member}/pin", issue_pin)
    router.add_delete("/api/classes/{id}/members/{member}", remove_member)
