"""The small HTTP API: the catalog the page offers, stored run media, and backend status."""

from __future__ import annotations

from aiohttp import web

from server.engine.catalog import listing, parse_lang
from server.engine.records import content_type
from server.handlers.keys import PIPELINE


async def catalog(request: web.Request) -> web.Response:
    services = request.app[PIPELINE].services
    lang = parse_lang(request.query.get("lang"))
    outputs = [{"id": wf.config.id, "name": wf.config.name} for wf in services.workflows.values()]
    body = listing(services.catalog, lang, outputs)
    return web.json_response(body, headers={"Cache-Control": "no-cache"})


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


async def media(request: web.Request) -> web.FileResponse:
    records = request.app[PIPELINE].services.records
    path = records.media_path(request.match_info["run"], request.match_info["file"])
    if path is None or not path.is_file():
        raise web.HTTPNotFound(text="no such media")
    return web.FileResponse(
        path,
        headers={
            "Content-Type": content_type(path),
            "Cache-Control": "private, max-age=86400, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )
