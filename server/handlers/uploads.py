"""A student's own picture for image-to-image: `POST /api/uploads`, `GET` and `DELETE
/api/uploads/{id}` (docs/http-api.md, "Uploads").

The body is streamed, never read whole: the declared length is checked first, then the `image`
part is read in chunks and refused (413; the rest is dropped, never kept) as soon as it passes
`max_upload_bytes`, all within `upload_timeout` (uploads are exempt from `body_timeout`, see
`connlimit.py`: a school line is slow). Only then does the picture reach the store, which
cleans it in a worker thread (`server/engine/uploads/`). Each upload is counted against its
person's bounds before its body is read. An upload is its person's (their cookie's identity):
read by them and the teacher of their class, deleted by them; anyone else gets 404, exactly as
for an upload that does not exist.
"""

from __future__ import annotations

import asyncio
import math

import structlog
from aiohttp import BodyPartReader, web

from server.engine.people.identity import Identity
from server.engine.people.per_address import fair_group
from server.engine.uploads import upload_url
from server.engine.uploads.clean import UploadRefused
from server.engine.uploads.limits import Upload, UploadLimit
from server.engine.uploads.store import UPLOAD_ID, UploadStore
from server.handlers.answers import NO_STORE, answer
from server.handlers.client_address import client_address
from server.handlers.keys import PIPELINE
from server.handlers.pictures import may_read, person
from server.handlers.problems import problem, request_lang
from server.protocol._http import ApiErrorCode, UploadInfo

log = structlog.get_logger(__name__)

E = ApiErrorCode
UPLOADS_PATH = "/api/uploads"
#: The multipart field that holds the file.
FIELD = "image"
_CHUNK = 64 * 1024
#: Room for the multipart framing around the file (boundary lines, the part's headers).
_FRAMING = 16 * 1024
_REFUSALS = {"not_image": E.UPLOAD_NOT_IMAGE, "bad_image": E.UPLOAD_BAD_IMAGE}
#: The server's or the address's bound, not the person's: their own pictures are not why.
_MESSAGES = {
    "server": {
        "en": "The server holds a lot of pictures right now. Please try again in a minute.",
        "de": "Der Server hat gerade sehr viele Bilder. Bitte versuch es in einer Minute noch "
        "einmal.",
    },
    "address": {
        "en": "Many pictures are being sent from your network right now. Please try again in "
        "a minute.",
        "de": "Gerade werden sehr viele Bilder aus deinem Netz geschickt. Bitte versuch es in "
        "einer Minute noch einmal.",
    },
}


def store_of(request: web.Request) -> UploadStore:
    if PIPELINE not in request.app:
        raise problem(request, E.UNAVAILABLE)
    return request.app[PIPELINE].services.uploads


async def create_upload(request: web.Request) -> web.Response:
    """`POST /api/uploads`: 201 `UploadInfo`, or a refusal naming what to change."""
    identity = person(request)
    store = store_of(request)
    if (request.content_length or 0) > store.bounds.max_bytes + _FRAMING:
        raise too_large(request)
    upload = reserve(request, store, identity)
    try:
        stored = await _stored(request, store, upload)
    except BaseException:
        store.unreserve(upload)  # its place is free again
        raise
    info = UploadInfo(
        id=stored.id, width=stored.width, height=stored.height, url=upload_url(stored.id)
    )
    return answer(info, 201)


async def _stored(request: web.Request, store: UploadStore, upload: Upload) -> Upload:
    data = await read_image(request, store.bounds.max_bytes, store.bounds.timeout)
    try:
        return await store.add(upload, data)
    except UploadRefused as exc:  # the operator's account; the student reads the code's text
        log.info("upload_refused", upload=upload.id, reason=exc.reason, detail=str(exc)[:200])
        raise problem(request, _REFUSALS[exc.reason]) from None
    except UploadLimit as exc:
        raise limited(request, exc) from None


def reserve(request: web.Request, store: UploadStore, identity: Identity) -> Upload:
    try:
        return store.reserve(identity, fair_group(identity, client_address(request)))
    except UploadLimit as exc:
        raise limited(request, exc) from None


def limited(request: web.Request, exc: UploadLimit) -> web.HTTPException:
    """429 `upload_limit`: the person's bound (or the server's, said so), with `Retry-After`
    when waiting helps."""
    message = _MESSAGES[exc.scope][request_lang(request)] if exc.scope in _MESSAGES else None
    headers = None
    if exc.retry_after is not None:
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    return problem(request, E.UPLOAD_LIMIT, message, headers=headers)


async def read_image(request: web.Request, max_bytes: int, timeout: float) -> bytes:
    """The `image` part's bytes, at most `max_bytes`, within `timeout`."""
    try:
        async with asyncio.timeout(timeout):
            return await _read_part(request, max_bytes)
    except TimeoutError:
        error = problem(request, E.UPLOAD_TIMEOUT)
        error.force_close()
        raise error from None
    except (ValueError, AssertionError, KeyError):  # not multipart, or a broken one
        raise problem(request, E.INVALID_FIELD) from None


async def _read_part(request: web.Request, max_bytes: int) -> bytes:
    reader = await request.multipart()
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != FIELD:
        raise problem(request, E.INVALID_FIELD)
    data = bytearray()
    while chunk := await part.read_chunk(_CHUNK):
        data += chunk
        if len(data) > max_bytes:
            raise too_large(request)
    return bytes(data)


def too_large(request: web.Request) -> web.HTTPException:
    """413 at once. The rest of the body is not kept: aiohttp reads and drops it for up to
    its lingering time before it closes the connection, so a browser still sending reads the
    answer instead of a reset."""
    return problem(request, E.UPLOAD_TOO_LARGE)


async def get_upload(request: web.Request) -> web.StreamResponse:
    """`GET /api/uploads/{id}`: the cleaned picture, for its owner and their class's teacher."""
    person(request)
    upload = store_of(request).get(_upload_id(request))
    if upload is None or not await may_read(request, upload.owner) or not upload.path.is_file():
        raise problem(request, E.NOT_FOUND)
    headers = {
        "Content-Type": "image/png",
        "Cache-Control": "private, no-cache",  # a shared cache never keeps one person's picture
        "X-Content-Type-Options": "nosniff",
    }
    return web.FileResponse(upload.path, headers=headers)


async def delete_upload(request: web.Request) -> web.Response:
    """`DELETE /api/uploads/{id}`: the caller's own upload ("remove image"); 204."""
    identity = person(request)
    if not await store_of(request).delete(identity.key, _upload_id(request)):
        raise problem(request, E.NOT_FOUND)
    return web.Response(status=204, headers=NO_STORE)


def _upload_id(request: web.Request) -> str:
    upload_id = request.match_info["upload"]
    return upload_id if UPLOAD_ID.match(upload_id) else ""


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post(UPLOADS_PATH, create_upload)
    router.add_get(UPLOADS_PATH + "/{upload}", get_upload)
    router.add_delete(UPLOADS_PATH + "/{upload}", delete_upload)
