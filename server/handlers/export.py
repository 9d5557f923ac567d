"""Take it home, and clear up after a lesson: a teacher's export of a class as a ZIP, and
deleting every picture of the class (its members stay).

Both are the class's teacher's alone (`own_class`: 404 for anyone else's class, 403 for
someone who is not a teacher). The export is read from the pictures index and the run
folders, and written in a worker thread into a temporary file (`classroom/export_zip.py`)
that is then streamed; at most `MAX_CONCURRENT_EXPORTS` exist at once, and one export holds at
most `MAX_EXPORT_RUNS` runs and `MAX_EXPORT_BYTES` of pictures (docs/http-api.md).
"""

from __future__ import annotations

import asyncio
import time
import unicodedata

import structlog
from aiohttp import web

from server.engine.classroom.export import (
    MAX_EXPORT_RUNS,
    ExportRange,
    RangeError,
    RowFacts,
    archive_name,
    export_range,
)
from server.engine.classroom.export_sheet import Lang
from server.engine.classroom.export_zip import (
    Archive,
    ExportPlan,
    ExportTooLarge,
    IndexedRun,
    build_archive,
)
from server.engine.classroom.wall import WallEvent
from server.engine.people.rows import ClassRow, PictureRow
from server.engine.picture_names import DownloadName
from server.handlers.classes import own_class
from server.handlers.keys import PEOPLE, PIPELINE, SETTINGS
from server.handlers.pictures import retention_start
from server.handlers.problems import problem, read_body, request_lang
from server.protocol._http import ApiErrorCode, PicturesDelete
from server.protocol._http_console import PicturesDeleted

log = structlog.get_logger(__name__)

#: Bytes read from the temporary archive per write to the socket.
CHUNK_BYTES = 256 * 1024
#: A chunk the client does not take within this long ends the download: a client that stops
#: reading would otherwise hold one of the server's few export slots (and its file) for ever.
SEND_TIMEOUT_SECONDS = 30.0
#: The teachers with an export being written or sent: one each at a time, so one teacher (or
#: a script with their cookie) cannot hold every one of the server's export slots.
EXPORTING = web.AppKey("exporting", set[int])


def _lang(request: web.Request) -> Lang:
    asked = request.query.get("lang")
    if asked in ("en", "de"):
        return "de" if asked == "de" else "en"
    return request_lang(request)


def _range(request: web.Request, klass: ClassRow) -> ExportRange:
    query = request.query
    try:
        span = export_range(query.get("since"), query.get("until"), query.get("tz"), time.time())
    except RangeError:
        raise problem(request, ApiErrorCode.INVALID_RANGE) from None
    # Rows older than retention wait for the next pruning round: they are not exported.
    now = time.time()
    oldest = retention_start(request.app[SETTINGS], now)
    if klass.rules.retention_hours is not None:  # the class's own, when shorter
        oldest = max(oldest, now - klass.rules.retention_hours * 3600)
    if span.since >= oldest:
        return span
    return ExportRange(oldest, span.until, span.tz_minutes, span.since_given)


def _facts(row: PictureRow) -> RowFacts:
    return RowFacts(status=row.status, hidden=row.hidden, flagged=row.flagged, group=row.group)


async def _plan(request: web.Request, klass: ClassRow, span: ExportRange) -> ExportPlan:
    """The class's runs in the range; `export_too_large` beyond `MAX_EXPORT_RUNS`."""
    people = request.app[PEOPLE]
    rows = await people.runs_of_class(klass.id, span.since, span.until, MAX_EXPORT_RUNS + 1)
    if len(rows) > MAX_EXPORT_RUNS:
        raise problem(request, ApiErrorCode.EXPORT_TOO_LARGE)
    runs = [IndexedRun(r.run_id, r.created, r.files, _facts(r)) for r in rows]
    spool = request.app[SETTINGS].data_dir
    return ExportPlan(klass.name, span, _lang(request), runs, spool)


async def export_class(request: web.Request) -> web.StreamResponse:
    """`GET /api/classes/{id}/export?since=&until=&tz=&lang=`: the class's runs as a ZIP."""
    klass = await own_class(request)
    span = _range(request, klass)
    plan = await _plan(request, klass, span)
    services = request.app[PIPELINE].services
    exporting = request.app[EXPORTING]
    if services.export_slots.locked() or klass.teacher_id in exporting:
        raise problem(request, ApiErrorCode.EXPORT_BUSY)
    exporting.add(klass.teacher_id)
    try:
        return await _export(request, klass, span, plan)
    finally:
        exporting.discard(klass.teacher_id)


async def _export(
    request: web.Request, klass: ClassRow, span: ExportRange, plan: ExportPlan
) -> web.StreamResponse:
    services = request.app[PIPELINE].services
    async with services.export_slots:  # held while the archive exists: build and send
        try:
            archive = await asyncio.to_thread(build_archive, plan, services.records)
        except ExportTooLarge:
            raise problem(request, ApiErrorCode.EXPORT_TOO_LARGE) from None
        except OSError as exc:  # the data directory's disk is full, say
            log.error("class_export_failed", class_id=klass.id, error=str(exc))
            raise problem(request, ApiErrorCode.INTERNAL) from None
        try:
            log.info(
                "class_exported",
                class_id=klass.id,
                runs=archive.runs,
                pictures=archive.pictures,
                bytes=archive.size,
            )
            return await _send(request, archive, archive_name(klass.name, span))
        finally:
            archive.close()


async def _send(request: web.Request, archive: Archive, name: DownloadName) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": name.content_disposition(),
            "Cache-Control": "no-store",
        }
    )
    response.content_length = archive.size
    await response.prepare(request)
    while chunk := await asyncio.to_thread(archive.file.read, CHUNK_BYTES):
        try:
            await asyncio.wait_for(response.write(chunk), SEND_TIMEOUT_SECONDS)
        except TimeoutError:  # the slot and the file go now; the download ends cut short
            log.warning("class_export_stalled", sent=archive.file.tell(), size=archive.size)
            if request.transport is not None:
                request.transport.abort()
            return response
    await response.write_eof()
    return response


def same_name(typed: str, name: str) -> bool:
    """Does the confirmation name the class? Case, spaces around and Unicode forms aside."""

    def canonical(text: str) -> str:
        return unicodedata.normalize("NFKC", text).strip().casefold()

    return bool(typed.strip()) and canonical(typed) == canonical(name)


async def delete_pictures(request: web.Request) -> web.Response:
    """`DELETE /api/classes/{id}/pictures` `{"confirm": "<class name>"}`: every run of the
    class, its index rows and folders, and its pictures off its walls; `confirm_mismatch`
    unless the name is typed."""
    klass = await own_class(request)
    body = await read_body(request, PicturesDelete)
    if not same_name(body.confirm, klass.name):
        raise problem(request, ApiErrorCode.CONFIRM_MISMATCH)
    rows = await request.app[PEOPLE].delete_class_pictures(klass.id)
    services = request.app[PIPELINE].services
    await services.records.delete_runs([row.run_id for row in rows])
    for row in rows:  # off the class's walls at once (a wall that falls behind reloads)
        if row.files:  # a wall ignores a run it does not show
            services.classes.publish(klass.id, WallEvent(kind="hidden", run=row.run_id))
    log.info("class_pictures_deleted", class_id=klass.id, runs=len(rows))
    answer = PicturesDeleted(deleted=len(rows)).model_dump_json()
    return web.json_response(text=answer, headers={"Cache-Control": "no-store"})


def add_routes(router: web.UrlDispatcher) -> None:
    # No HEAD: it would write a whole archive to send nothing.
    router.add_get("/api/classes/{id}/export", export_class, allow_head=False)
    router.add_delete("/api/classes/{id}/pictures", delete_pictures)
