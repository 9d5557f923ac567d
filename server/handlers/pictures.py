"""My pictures: a person's gallery from the pictures index, deleting one of its pictures,
and who may read a run's media (used by `api.media`).

The gallery is the same on every tab and device of an identity because it comes from the
store, not from a session. Only a person with an identity has one: a request without a cookie
is answered `join_required`. A picture that is not the caller's is `not_found`, never
"forbidden", so nobody learns that another person's run exists.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from server.engine.people.identity import Identity
from server.engine.people.pictures import MAX_PICTURES_LISTED
from server.engine.people.rows import PictureRow
from server.engine.picture_access import may_see, needs_class_teacher, teacher_key
from server.engine.records import RUN_ID, RecordStore
from server.engine.run_record import RecordedOwner
from server.handlers.identity import identity_of
from server.handlers.keys import PEOPLE, PIPELINE, SETTINGS
from server.handlers.problems import problem
from server.protocol._http import ApiErrorCode
from server.settings import Settings


def records_of(request: web.Request) -> RecordStore:
    return request.app[PIPELINE].services.records


def person(request: web.Request) -> Identity:
    """The caller's identity; `join_required` without one."""
    identity = identity_of(request)
    if identity is None:
        raise problem(request, ApiErrorCode.JOIN_REQUIRED)
    return identity


def retention_start(settings: Settings, now: float) -> float:
    """The oldest `created` still within retention (0: retention keeps everything)."""
    return now - settings.retention_hours * 3600 if settings.retention_hours > 0 else 0.0


def media_url(run_id: str, name: str) -> str:
    return f"/media/{run_id}/{name}"


def picture_json(row: PictureRow) -> dict[str, Any]:
    return {
        "run": row.run_id,
        "created": row.created,
        "prompt": row.prompt,
        "perspective": row.perspective,
        "files": [media_url(row.run_id, name) for name in row.files],
        "group": row.group,  # a compare's runs share it: shown side by side
    }


async def list_pictures(request: web.Request) -> web.Response:
    """`GET /api/pictures`: the caller's pictures within retention, newest first, at most
    `max_pictures_listed`, found among their newest `MAX_PICTURES_LISTED` runs."""
    identity = person(request)
    settings = request.app[SETTINGS]
    since = retention_start(settings, time.time())
    rows = await request.app[PEOPLE].pictures_of(identity.key, since, MAX_PICTURES_LISTED)
    # Runs without pictures have rows too (so deleting a member finds their records), and
    # must not push pictures out of the gallery: the bound counts pictures.
    shown = [row for row in rows if row.files][: settings.max_pictures_listed]
    body = {"pictures": [picture_json(row) for row in shown]}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def delete_picture(request: web.Request) -> web.Response:
    """`DELETE /api/pictures/{run}`: the caller's own picture, its record and its files."""
    identity = person(request)
    run_id = request.match_info["run"]
    if not RUN_ID.match(run_id) or not await request.app[PEOPLE].delete_picture(
        run_id, identity.key
    ):
        raise problem(request, ApiErrorCode.NOT_FOUND)
    await records_of(request).delete_runs([run_id])
    return web.Response(status=204, headers={"Cache-Control": "no-store"})


async def may_read(request: web.Request, owner: RecordedOwner) -> bool:
    """Whether the caller may read the media of `owner`'s run (the store is asked only when a
    teacher wants a student's picture)."""
    viewer = identity_of(request)
    class_teacher = None
    if needs_class_teacher(viewer, owner) and owner.class_id is not None:
        klass = await request.app[PEOPLE].get_class(owner.class_id)
        class_teacher = teacher_key(klass.teacher_id) if klass is not None else None
    return may_see(viewer, owner, class_teacher)
