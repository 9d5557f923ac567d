"""Workshop preparation for teachers: is every kind of backend ready and every model warm
(`GET /api/teacher/backends`), and starting the warm-up (`POST /api/teacher/warmup`).

Teachers only (403 `teachers_only` for anyone else). The answer carries state codes, never
an instance's address or error text (those stay in `/api/status`, for operators); the
console words the codes. The engine side is `server/engine/classroom/readiness.py`.
"""

from __future__ import annotations

from aiohttp import web

from server.engine.classroom.readiness import KindReadiness, WarmProgress, WarmUp, readiness
from server.handlers.answers import answer
from server.handlers.classes import teacher_id
from server.handlers.keys import PIPELINE
from server.handlers.problems import problem
from server.protocol._http import ApiErrorCode
from server.protocol._http_console import BackendsReadiness, ModelReadiness, WarmUpProgress
from server.protocol._http_console import KindReadiness as KindBody


def _warm_up(request: web.Request) -> WarmUp:
    teacher_id(request)
    warm_up = request.app[PIPELINE].services.warm_up
    if warm_up is None:  # services built without the wiring: there is nothing to warm
        raise problem(request, ApiErrorCode.NOT_FOUND)
    return warm_up


def progress_body(progress: WarmProgress) -> WarmUpProgress:
    return WarmUpProgress(
        state=progress.state, done=progress.done, total=progress.total, failed=progress.failed
    )


def kind_body(kind: KindReadiness) -> KindBody:
    models = None
    if kind.models is not None:
        models = [ModelReadiness(name=name, warm=warm) for name, warm in kind.models]
    return KindBody(
        kind=kind.kind,
        state=kind.state,
        instances=kind.instances,
        healthy=kind.healthy,
        startable=kind.startable,
        models=models,
    )


async def backends(request: web.Request) -> web.Response:
    """`GET /api/teacher/backends`: each kind's state and models, and the warm-up's progress."""
    warm_up = _warm_up(request)
    kinds = readiness(request.app[PIPELINE].services.backends, warm_up)
    body = BackendsReadiness(
        kinds=[kind_body(kind) for kind in kinds], warmup=progress_body(warm_up.progress())
    )
    return answer(body)


async def start_warm_up(request: web.Request) -> web.Response:
    """`POST /api/teacher/warmup`: start the warm-up, or answer the one that runs."""
    return answer(progress_body(_warm_up(request).start()))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/teacher/backends", backends)
    router.add_post("/api/teacher/warmup", start_warm_up)
