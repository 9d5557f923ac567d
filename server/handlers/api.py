"""The small HTTP API: the catalog the page offers, stored run media (for those who may see
them: `server/handlers/pictures.py`), and backend status."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from server.engine.catalog import parse_lang
from server.engine.catalog_listing import listing
from server.engine.picture_access import RunMedia
from server.engine.picture_names import DownloadName, download_name
from server.engine.records import content_type
from server.engine.uploads.store import INPUT_NAME
from server.handlers import wall
from server.handlers.identity import identity_of
from server.handlers.keys import PIPELINE
from server.handlers.pictures import may_read, media_url
from server.handlers.problems import problem
from server.protocol._http import ApiErrorCode


async def catalog(request: web.Request) -> web.Response:
    services = request.app[PIPELINE].services
    lang = parse_lang(request.query.get("lang"))
    outputs = [
        {
            "id": wf.config.id,
            "name": wf.config.name,
            "accepts_image": wf.config.accepts_image,
            "requires_image": wf.config.requires_image,
        }
        for wf in services.workflows.values()
    ]
    body = listing(services.catalog, lang, outputs)
    identity = identity_of(request)
    allowed = identity.rules.perspectives if identity and identity.rules else None
    if allowed is not None:  # a class offers its members only the perspectives it uses
        body["interceptions"] = [i for i in body["interceptions"] if i["id"] in allowed]
    return web.json_response(body, headers={"Cache-Control": "private, no-cache"})


async def status(request: web.Request) -> web.Response:
    """Every backend instance: state, breaker, slots and its line (no URL, no command)."""
    services = request.app[PIPELINE].services
    pools = services.scheduler.snapshot().pools
    backends = []
    for info in services.backends.status():
        pool = pools.get(info.pool)
        running, waiting = (pool.running, pool.waiting) if pool else (0, 0)
        backends.append({**info.to_json(), "running": running, "waiting": waiting})
    body = {"ready": services.backends.ready(), "backends": backends}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def media(request: web.Request) -> web.StreamResponse:
    """`GET /media/{run}/{file}`: one of a run's pictures, for those who may see it (its
    owner, a teacher of the owner's class, a wall link of the class while the picture is on
    its wall; anyone for a cookie-less run); `not_found` for everyone else, exactly as for a
    file that does not exist. `?download=1` names the file."""
    run_id, name = request.match_info["run"], request.match_info["file"]
    services = request.app[PIPELINE].services
    records = services.records
    path = records.media_path(run_id, name)
    # A picture the disk refused is in memory, with whose it is (its record is not on disk).
    held = services.held_media.get(run_id, name) if path is not None else None
    found = await records.media_of(run_id) if path is not None else None
    found = found or (held.facts if held is not None else None)
    if path is None or found is None or not served(found, run_id, name):
        raise problem(request, ApiErrorCode.NOT_FOUND)
    seen = await may_read(request, found.owner) or await wall.may_show(request, run_id, found.owner)
    if not seen or not (held is not None or path.is_file()):
        raise problem(request, ApiErrorCode.NOT_FOUND)
    headers = {
        "Content-Type": content_type(path),
        # private: a shared cache must never hand one person's picture to another; no-cache:
        # the browser asks again each time (a 304 from the file's ETag), so a picture deleted,
        # or a student who left the class on a shared computer, is not shown from its cache.
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if request.query.get("download") == "1" and name != INPUT_NAME:
        headers["Content-Disposition"] = download_name_of(found, run_id, path).content_disposition()
    if held is not None:
        return web.Response(body=held.data, headers=headers)
    return web.FileResponse(path, headers=headers)


def served(found: RunMedia, run_id: str, name: str) -> bool:
    """One of the run's outputs, or the student's own picture it started from (`input.png`,
    in its folder once it completed: `server/engine/uploads/store.py`)."""
    return name == INPUT_NAME or media_url(run_id, name) in found.outputs


def download_name_of(found: RunMedia, run_id: str, path: Path) -> DownloadName:
    """Prompt, perspective and date; numbered when the run made more than one picture."""
    outputs = list(found.outputs)
    index = outputs.index(media_url(run_id, path.name))
    number = index + 1 if len(outputs) > 1 else None
    suffix = path.suffix.lstrip(".").lower()
    return download_name(found.prompt, found.perspective, found.created, suffix, number)
