"""The `codes` access mode on the HTTP API: only people who proved who they are.

In `codes` mode an `/api/` call without an identity (a member's or a teacher's cookie) is
refused with 401 `join_required`, except the calls that get one (`/api/me`, `/api/join`,
teachers' login) or end one, and the operator endpoints, which have their own gate
(`operator.py`: a monitor's bearer token carries no cookie). The socket makes the same
check on `hello` (`ws.py`). In `open` mode nothing is refused here.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from server.handlers.keys import IDENTITY, SETTINGS
from server.handlers.operator import OPERATOR_PATHS
from server.handlers.problems import problem
from server.protocol import AccessMode
from server.protocol._http import ApiErrorCode
from server.settings import access_mode

#: Calls anyone may make in `codes` mode.
WITHOUT_IDENTITY = frozenset(
    {"/api/me", "/api/join", "/api/leave", "/api/teacher/login", "/api/teacher/logout"}
)


#: The wall's calls: a wall link holder has no identity (`wall.py` has its own gate).
WALL_PATHS = "/api/wall/"


def needs_identity(path: str) -> bool:
    exempt = path in WITHOUT_IDENTITY or path in OPERATOR_PATHS or path.startswith(WALL_PATHS)
    return path.startswith("/api/") and not exempt


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if (
        needs_identity(request.path)
        and IDENTITY not in request
        and access_mode(request.app[SETTINGS]) is AccessMode.CODES
    ):
        raise problem(request, ApiErrorCode.JOIN_REQUIRED)
    return await handler(request)
