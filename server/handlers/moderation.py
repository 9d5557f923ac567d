"""The teacher's moderation of a class over HTTP: the log of blocked prompts, the class's
pictures, flagging and hiding one, locking and unlocking a member's nickname.

Every call is the class's teacher's (`classes.own_class`: 403 `teachers_only` for anyone who
is not a teacher, 404 `not_found` for another teacher's class), so a blocked prompt's reason
never reaches a student. A hidden or shown picture and a flag go to the class's hub
(`ClassHub.publish`), which tells the wall and the watching consoles at once.
"""

from __future__ import annotations

import time

import structlog
from aiohttp import web

from server.engine.classroom.wall import WallEvent, WallEventKind
from server.engine.people.identity import MEMBER_PREFIX
from server.engine.people.moderation import ClassPicture
from server.engine.people.rows import ClassRow
from server.engine.records import RUN_ID
from server.handlers.answers import answer
from server.handlers.classes import own_class, own_member
from server.handlers.keys import CLASSES, PEOPLE, REGISTRY, SETTINGS
from server.handlers.pictures import media_url, retention_start
from server.handlers.problems import problem, read_body
from server.protocol import CloseCode
from server.protocol._http import ApiErrorCode, MemberInfo, PictureChange
from server.protocol._http_console import (
    BlockedRun,
    ClassPictureInfo,
    ClassPictureList,
    ModerationLog,
)

log = structlog.get_logger(__name__)


def _since(request: web.Request, klass: ClassRow) -> float:
    """The oldest run still kept: the operator's retention, or the class's own when shorter
    (older rows wait for the hourly pruner and are not shown meanwhile)."""
    now = time.time()
    oldest = retention_start(request.app[SETTINGS], now)
    if klass.rules.retention_hours is not None:
        oldest = max(oldest, now - klass.rules.retention_hours * 3600)
    return oldest


def blocked_run(entry: ClassPicture) -> BlockedRun:
    row = entry.row
    return BlockedRun(
        run=row.run_id,
        member=entry.member,
        nickname=entry.nickname,
        created=row.created,
        stage=row.stage,
        prompt=row.prompt,
        perspective=row.perspective,
        reason=row.teacher_reason,
        flagged=row.flagged,
    )


def picture_info(entry: ClassPicture) -> ClassPictureInfo:
    row = entry.row
    return ClassPictureInfo(
        run=row.run_id,
        member=entry.member,
        nickname=entry.nickname,
        perspective=row.perspective,
        prompt=row.prompt,
        created=row.created,
        files=[media_url(row.run_id, name) for name in row.files],
        hidden=row.hidden,
        flagged=row.flagged,
        group=row.group,
    )


async def moderation_log(request: web.Request) -> web.Response:
    """`GET /api/classes/{id}/moderation`: the class's blocked runs, newest first."""
    klass = await own_class(request)
    entries = await request.app[PEOPLE].blocked_of_class(klass.id, _since(request, klass))
    return answer(ModerationLog(blocked=[blocked_run(entry) for entry in entries]))


async def class_pictures(request: web.Request) -> web.Response:
    """`GET /api/classes/{id}/pictures`: the class's pictures, hidden ones too, newest first."""
    klass = await own_class(request)
    entries = await request.app[PEOPLE].pictures_of_class(
        klass.id, _since(request, klass), include_hidden=True
    )
    return answer(ClassPictureList(pictures=[picture_info(entry) for entry in entries]))


async def change_picture(request: web.Request) -> web.Response:
    """`PATCH /api/classes/{id}/pictures/{run}`: flag it, hide it from the wall, or show it."""
    klass = await own_class(request)
    run_id = request.match_info["run"]
    body = await read_body(request, PictureChange)
    if body.flagged is None and body.hidden is None:
        raise problem(request, ApiErrorCode.INVALID_FIELD)
    people = request.app[PEOPLE]
    before = await people.class_picture(klass.id, run_id) if RUN_ID.match(run_id) else None
    if before is None:
        raise problem(request, ApiErrorCode.NOT_FOUND)
    after = await people.mark_picture(klass.id, run_id, flagged=body.flagged, hidden=body.hidden)
    if after is None:  # its member was removed meanwhile
        raise problem(request, ApiErrorCode.NOT_FOUND)
    for kind in _changes(before, after):
        _publish(request, klass.id, WallEvent(kind=kind, run=run_id))
    log.info("picture_marked", class_id=klass.id, run=run_id, hidden=after.row.hidden)
    return answer(picture_info(after))


def _changes(before: ClassPicture, after: ClassPicture) -> list[WallEventKind]:
    """What the wall and the consoles hear: hidden or shown again, and a new flag."""
    kinds: list[WallEventKind] = []
    if after.row.hidden != before.row.hidden:
        kinds.append("hidden" if after.row.hidden else "shown")
    if after.row.flagged and not before.row.flagged:
        kinds.append("flagged")
    return kinds


def _publish(request: web.Request, class_id: int, event: WallEvent) -> None:
    hub = request.app.get(CLASSES)
    if hub is not None:  # the socket-only app of some tests runs without a pipeline
        hub.publish(class_id, event)


def _members_changed(request: web.Request, class_id: int) -> None:
    """The watching consoles get a fresh `class.state` (whose members are locked)."""
    hub = request.app.get(CLASSES)
    if hub is not None:
        hub.class_changed(class_id)


async def lock_member(request: web.Request) -> web.Response:
    """`POST .../members/{member}/lock`: their sockets close (4016), their cookies stop
    working, and nobody joins under the nickname (even with a PIN) until it is unlocked.
    Their pictures stay."""
    _, member = await own_member(request)
    await request.app[PEOPLE].lock_member(member.id, True)
    request.app[REGISTRY].close_identity(f"{MEMBER_PREFIX}{member.id}", CloseCode.IDENTITY_REVOKED)
    _members_changed(request, member.class_id)
    log.info("member_locked", member=member.id, class_id=member.class_id)
    return answer(MemberInfo(id=member.id, nickname=member.nickname, locked=True))


async def unlock_member(request: web.Request) -> web.Response:
    """`POST .../members/{member}/unlock`: the nickname may join again (with a PIN, since it
    is taken)."""
    _, member = await own_member(request)
    await request.app[PEOPLE].lock_member(member.id, False)
    _members_changed(request, member.class_id)
    log.info("member_unlocked", member=member.id, class_id=member.class_id)
    return answer(MemberInfo(id=member.id, nickname=member.nickname, locked=False))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/classes/{id}/moderation", moderation_log)
    router.add_get("/api/classes/{id}/pictures", class_pictures)
    router.add_patch("/api/classes/{id}/pictures/{run}", change_picture)
    router.add_post("/api/classes/{id}/members/{member}/lock", lock_member)
    router.add_post("/api/classes/{id}/members/{member}/unlock", unlock_member)
