"""A JSON answer of the API. Whose answer it is depends on the request's cookie, so no cache
(the browser's, a proxy's, Cloudflare's) may keep it."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

NO_STORE = {"Cache-Control": "no-store"}


def answer(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(text=model.model_dump_json(), status=status, headers=NO_STORE)
