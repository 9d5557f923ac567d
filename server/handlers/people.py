"""People on the app: the store and the signing key opened with it, the middlewares that know
who a request is, and the routes of joining, logging in and managing classes.

`server/app.py` adds these three to the socket app; everything else about people lives in
the modules they name (docs/http-api.md lists the endpoints).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from server.engine.catalog import SafetyLevel, load_word_lists
from server.engine.people.db import DB_NAME, PeopleStore
from server.handlers import auth, classes, export, lessons, moderation, readiness, wall
from server.handlers.access import access_middleware
from server.handlers.csrf import csrf_middleware
from server.handlers.identity import SIGNING_KEY, identity_middleware
from server.handlers.keys import PEOPLE, SETTINGS
from server.handlers.operator import operator_middleware
from server.handlers.problems import refusals_middleware
from server.handlers.signing_key import key_path, load_or_create

#: Outermost first: who the request is, then CSRF, then the gates that need the identity;
#: innermost, the store's refusals become the API's.
MIDDLEWARES = (
    identity_middleware,
    csrf_middleware,
    operator_middleware,
    access_middleware,
    refusals_middleware,
)


async def people_context(app: web.Application) -> AsyncIterator[None]:
    """Open the store (`data_dir/atelier.db`) and load the signing key; close on shutdown.
    Nicknames are checked against the kids word list of the catalog."""
    settings = app[SETTINGS]
    app[SIGNING_KEY] = load_or_create(key_path(settings))
    app[auth.LIMITS] = auth.AuthLimits.from_settings(settings)
    blocked = load_word_lists(settings.workflows_dir)[SafetyLevel.KIDS]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = await PeopleStore.open(settings.data_dir / DB_NAME, blocked_words=blocked)
    app[PEOPLE] = store
    try:
        yield
    finally:
        await store.close()


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/me", auth.me)
    router.add_post("/api/join", auth.join)
    router.add_post("/api/leave", auth.leave)
    router.add_post("/api/teacher/login", auth.teacher_login)
    router.add_post("/api/teacher/logout", auth.teacher_logout)
    classes.add_routes(router)
    export.add_routes(router)
    readiness.add_routes(router)
    lessons.add_routes(router)  # a class in session: pause, end, cancel a run
    moderation.add_routes(router)
    wall.add_routes(router)
