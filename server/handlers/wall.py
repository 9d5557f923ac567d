"""The wall over HTTP: a class's pictures for a projector, its live feed, and its wall links.

Who may see a class's wall: its teacher (their cookie), or whoever holds a live wall link of
that class. A link arrives as `/wall/<class>#k=<token>`: the fragment never leaves the browser,
so the token is in no access log and no Referer. The page sends it once, in the `X-Wall-Key`
header of `GET /api/wall/<class>`, which answers with an httpOnly `atelier_wall` cookie holding
it; the feed (an `EventSource`) and the pictures (`<img>`) then carry the cookie, since neither
can send a header. Everyone else (another teacher, a student, nobody, a revoked link) gets 404
`not_found`, exactly as for a class that does not exist.

The feed is Server-Sent Events: one way is all the wall needs, an `EventSource` reconnects by
itself (the page then reloads the pictures, so nothing is missed while it was away), and a
comment every `HEARTBEAT_SECONDS` keeps proxies (Cloudflare closes a stream idle for 100 s)
from cutting it. Revoking a link ends every feed it opened at once (`WallFeed.close_link`).
"""

from __future__ import annotations

import asyncio
import time

import orjson
import structlog
from aiohttp import web

from server.engine.catalog import Catalog
from server.engine.classroom.wall import WallEvent, WallFeed, WallSubscriber, on_wall, wall_item
from server.engine.people.rows import ClassRow
from server.engine.people.wall_links import TOKEN_SHAPE, WallLinkRow
from server.engine.picture_access import teacher_key
from server.engine.run_record import RecordedOwner
from server.handlers.answers import answer
from server.handlers.classes import own_class
from server.handlers.identity import identity_of, set_cookie
from server.handlers.keys import CLASSES, PEOPLE, PIPELINE, SETTINGS
from server.handlers.pictures import retention_start
from server.handlers.problems import problem
from server.protocol._http import ApiErrorCode
from server.protocol._http_console import (
    WallLinkCreated,
    WallLinkInfo,
    WallLinkList,
    WallPictures,
)

log = structlog.get_logger(__name__)

WALL_HEADER = "X-Wall-Key"
WALL_COOKIE = "atelier_wall"
#: How long a wall link's cookie lasts after the wall last loaded its pictures: a school day.
COOKIE_SECONDS = 12 * 3600
#: A comment this often on an idle feed: under every proxy's idle limit (Cloudflare: 100 s).
HEARTBEAT_SECONDS = 20.0
#: A write the wall does not take within this long ends its feed (it reconnects).
SEND_TIMEOUT_SECONDS = 10.0
#: The newest pictures the wall loads: more than a lesson makes, and a bound on the answer.
WALL_PICTURES = 200
_ID_DIGITS = 18


def _path_id(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not text.isdecimal() or len(text) > _ID_DIGITS:
        raise problem(request, ApiErrorCode.NOT_FOUND)
    return int(text)


# -- wall links (the class's teacher only)


async def create_link(request: web.Request) -> web.Response:
    klass = await own_class(request)
    made = await request.app[PEOPLE].new_wall_link(klass.id)
    if made is None:
        raise problem(request, ApiErrorCode.TOO_MANY_WALL_LINKS)
    link, token = made
    log.info("wall_link_created", class_id=klass.id, link=link.id)
    url = f"/wall/{klass.id}#k={token}"
    return answer(WallLinkCreated(id=link.id, url=url, created=link.created), 201)


async def list_links(request: web.Request) -> web.Response:
    klass = await own_class(request)
    rows = await request.app[PEOPLE].wall_links_of(klass.id)
    links = [WallLinkInfo(id=row.id, created=row.created) for row in rows]
    return answer(WallLinkList(links=links))


async def revoke_link(request: web.Request) -> web.Response:
    klass = await own_class(request)
    link = _path_id(request, "link")
    if not await request.app[PEOPLE].revoke_wall_link(klass.id, link):
        raise problem(request, ApiErrorCode.NOT_FOUND)
    feed = _feed(request)
    closed = feed.close_link(link) if feed is not None else 0
    log.info("wall_link_revoked", class_id=klass.id, link=link, feeds_closed=closed)
    return web.Response(status=204, headers={"Cache-Control": "no-store"})


# -- who may see a wall


def _token(request: web.Request) -> str | None:
    """The wall link token the request carries (header first, then cookie), if well formed."""
    token = request.headers.get(WALL_HEADER) or request.cookies.get(WALL_COOKIE) or ""
    return token if TOKEN_SHAPE.fullmatch(token) else None


async def _link(request: web.Request, class_id: int) -> WallLinkRow | None:
    token = _token(request)
    link = await request.app[PEOPLE].wall_link_for(token) if token else None
    return link if link is not None and link.class_id == class_id else None


def _teacher_of(request: web.Request, klass: ClassRow) -> bool:
    identity = identity_of(request)
    return identity is not None and identity.key == teacher_key(klass.teacher_id)


async def wall_class(request: web.Request) -> tuple[ClassRow, WallLinkRow | None]:
    """The class in the path and the link that opened its wall (None: its teacher did);
    404 for everyone else."""
    klass = await request.app[PEOPLE].get_class(_path_id(request, "class"))
    if klass is None:
        raise problem(request, ApiErrorCode.NOT_FOUND)
    if _teacher_of(request, klass):
        return klass, None
    link = await _link(request, klass.id)
    if link is None:
        raise problem(request, ApiErrorCode.NOT_FOUND)
    return klass, link


async def may_show(request: web.Request, run_id: str, owner: RecordedOwner) -> bool:
    """Whether a wall link the request carries lets it read this run's media (`api.media`):
    a link of the run's class, and the picture is on the wall (completed, not hidden)."""
    if owner.class_id is None or await _link(request, owner.class_id) is None:
        return False
    row = await request.app[PEOPLE].picture(run_id)
    return row is not None and row.class_id == owner.class_id and on_wall(row)


# -- the wall's data and its feed


def _catalog(request: web.Request) -> Catalog | None:
    pipeline = request.app.get(PIPELINE)
    return pipeline.services.catalog if pipeline is not None else None


def _feed(request: web.Request) -> WallFeed | None:
    """The walls' feed; None before the pipeline (and its class hub) is up."""
    hub = request.app.get(CLASSES)
    return hub.wall if hub is not None else None


async def pictures(request: web.Request) -> web.Response:
    """`GET /api/wall/{class}`: the class's newest pictures on the wall, newest first."""
    klass, link = await wall_class(request)
    since = retention_start(request.app[SETTINGS], time.time())
    found = await request.app[PEOPLE].pictures_of_class(
        klass.id, since, include_hidden=False, limit=WALL_PICTURES
    )
    catalog = _catalog(request)
    items = [wall_item(p.row, p.nickname, catalog) for p in found if on_wall(p.row)]
    response = answer(WallPictures(name=klass.name, pictures=items))
    token = _token(request)
    if link is not None and token is not None:  # the feed and the pictures need no header
        set_cookie(request, response, WALL_COOKIE, token, COOKIE_SECONDS)
    return response


def _frame(event: WallEvent) -> bytes:
    data = {"kind": event.kind, "run": event.run, "picture": event.picture}
    return b"data: " + orjson.dumps(data) + b"\n\n"


async def events(request: web.Request) -> web.StreamResponse:
    """`GET /api/wall/{class}/events`: the wall's live feed (Server-Sent Events)."""
    klass, link = await wall_class(request)
    feed = _feed(request)
    if feed is None:
        raise problem(request, ApiErrorCode.NOT_FOUND)
    subscriber = feed.subscribe(klass.id, None if link is None else link.id)
    if subscriber is None:
        raise problem(request, ApiErrorCode.TOO_MANY_WALLS)
    if link is not None and await _link(request, klass.id) is None:
        # Revoked between the check and the subscription: `close_link` missed this feed.
        feed.unsubscribe(subscriber)
        raise problem(request, ApiErrorCode.NOT_FOUND)
    headers = {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",  # a buffering proxy would hold pictures back
    }
    response = web.StreamResponse(headers=headers)
    try:
        await response.prepare(request)
        await _write(response, b"retry: 2000\n: open\n\n")
        await _stream(response, subscriber)
    except (ConnectionError, TimeoutError):
        pass  # the wall went away or stopped reading: it reconnects if it is still there
    finally:
        feed.unsubscribe(subscriber)
    return response


async def _stream(response: web.StreamResponse, subscriber: WallSubscriber) -> None:
    while subscriber.ended is None:
        event = await subscriber.next(HEARTBEAT_SECONDS)
        if event is not None:
            await _write(response, _frame(event))
        elif subscriber.ended is None:
            await _write(response, b": heartbeat %d\n\n" % int(time.time()))
    if subscriber.ended == "revoked":
        await _write(response, b'event: end\ndata: {"why": "revoked"}\n\n')


async def _write(response: web.StreamResponse, data: bytes) -> None:
    await asyncio.wait_for(response.write(data), SEND_TIMEOUT_SECONDS)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/api/classes/{id}/wall-links", create_link)
    router.add_get("/api/classes/{id}/wall-links", list_links)
    router.add_delete("/api/classes/{id}/wall-links/{link}", revoke_link)
    router.add_get("/api/wall/{class}", pictures)
    router.add_get("/api/wall/{class}/events", events)
