"""People in tests: a teacher in the store, logged-in and joined HTTP clients, their sockets.

Every client here is an `aiohttp.ClientSession` whose cookie jar holds the identity
(`atelier_id`) and the CSRF cookie (`atelier_csrf`). aiohttp's jar drops cookies set by an
IP-address host unless it is `unsafe`, and the test servers listen on 127.0.0.1: always make
clients with `people_client()`. State-changing calls go through `api_send`, which sends the
`X-CSRF-Token` header the CSRF middleware asks for (fetching the token from `/api/me` first).

    server = await start_server(access="codes")
    teacher = await logged_in_teacher(server)
    klass = await create_class(teacher, server, "4b")
    student = await joined_student(server, klass["code"], "Mika")
    ws, welcome = await open_socket(student, server)
"""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse, ClientSession, ClientWebSocketResponse, CookieJar
from aiohttp.test_utils import TestServer

from server.engine.people.db import PeopleStore
from server.handlers.keys import PEOPLE
from server.protocol import PROTOCOL_VERSION
from tests.conftest import MONITOR_HEADERS as MONITOR_HEADERS
from tests.conftest import MONITOR_TOKEN as MONITOR_TOKEN

ID_COOKIE = "atelier_id"
CSRF_COOKIE = "atelier_csrf"
CSRF_HEADER = "X-CSRF-Token"
TEACHER = "ms-lee"
PASSWORD = "a long enough password"


def people_of(server: TestServer) -> PeopleStore:
    """The server's store (opened with the app; tests add teachers through it)."""
    return server.app[PEOPLE]


def people_client() -> ClientSession:
    """An HTTP client that keeps the cookies a 127.0.0.1 server sets."""
    return ClientSession(cookie_jar=CookieJar(unsafe=True))


def cookie(http: ClientSession, name: str) -> str | None:
    """A cookie's value in the client's jar, or None."""
    for morsel in http.cookie_jar:
        if morsel.key == name:
            return morsel.value
    return None


async def me(http: ClientSession, server: TestServer) -> dict[str, Any]:
    """`GET /api/me` (sets the CSRF cookie, and a guest cookie in open mode)."""
    async with http.get(server.make_url("/api/me")) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


async def csrf_token(http: ClientSession, server: TestServer) -> str:
    """The client's CSRF token, asked for once."""
    token = cookie(http, CSRF_COOKIE)
    if token is None:
        token = str((await me(http, server))["csrf"])
    return token


async def api_send(
    http: ClientSession,
    server: TestServer,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> ClientResponse:
    """A state-changing call with the CSRF header; the caller reads and releases the
    response (`async with await api_send(...) as response`)."""
    headers = {CSRF_HEADER: await csrf_token(http, server)}
    return await http.request(method, server.make_url(path), json=body, headers=headers)


async def api_json(
    http: ClientSession,
    server: TestServer,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> dict[str, Any]:
    """`api_send`, asserting the status, and the JSON answer ({} for an empty one)."""
    async with await api_send(http, server, method, path, body) as response:
        assert response.status == status, await response.text()
        if response.status == 204:
            return {}
        answer: dict[str, Any] = await response.json()
        return answer


async def add_teacher(server: TestServer, name: str = TEACHER, password: str = PASSWORD) -> int:
    """A teacher account in the server's store; its id."""
    row = await people_of(server).add_teacher(name, password)
    return row.id


async def logged_in_teacher(
    server: TestServer, name: str = TEACHER, password: str = PASSWORD
) -> ClientSession:
    """A new teacher account and a client logged in as that teacher (close it)."""
    await add_teacher(server, name, password)
    return await login(server, name, password)


async def login(server: TestServer, name: str = TEACHER, password: str = PASSWORD) -> ClientSession:
    """A client logged in as an existing teacher (close it)."""
    http = people_client()
    await api_json(http, server, "POST", "/api/teacher/login", {"name": name, "password": password})
    return http


async def create_class(
    teacher: ClientSession, server: TestServer, name: str = "4b", **fields: Any
) -> dict[str, Any]:
    """A class of the logged-in teacher: `{"id", "name", "code", "code_expires", "rules",
    "members"}` (`fields`: `rules`, `code_expires_hours`)."""
    return await api_json(
        teacher, server, "POST", "/api/classes", {"name": name, **fields}, status=201
    )


async def joined_student(
    server: TestServer, code: str, nickname: str, pin: str | None = None
) -> ClientSession:
    """A client that joined the class with `code` as `nickname` (close it)."""
    http = people_client()
    body = {"code": code, "nickname": nickname} | ({"pin": pin} if pin else {})
    await api_json(http, server, "POST", "/api/join", body)
    return http


async def open_socket(
    http: ClientSession, server: TestServer, **hello: Any
) -> tuple[ClientWebSocketResponse, dict[str, Any]]:
    """`/ws` with the client's cookies, `hello` sent; the socket and the first answer (a
    `welcome`, or an `error` such as `join_required`). Close the socket."""
    ws = await http.ws_connect(server.make_url("/ws"))
    await ws.send_json({"type": "hello", "protocol": PROTOCOL_VERSION, **hello})
    first: dict[str, Any] = await ws.receive_json(timeout=10)
    return ws, first


async def error_of(response: ClientResponse) -> tuple[int, str]:
    """A refusal's status and stable code."""
    body = await response.json()
    return response.status, str(body["error"]["code"])


async def members_of(teacher: ClientSession, server: TestServer, class_id: int) -> list[Any]:
    """The class's members as its teacher sees them: `[{"id", "nickname"}]`."""
    async with teacher.get(server.make_url(f"/api/classes/{class_id}/members")) as response:
        assert response.status == 200, await response.text()
        return list((await response.json())["members"])


async def pin_for(teacher: ClientSession, server: TestServer, class_id: int, nickname: str) -> str:
    """A PIN the teacher issues for the member with `nickname`."""
    [member] = [m for m in await members_of(teacher, server, class_id) if m["nickname"] == nickname]
    path = f"/api/classes/{class_id}/members/{member['id']}/pin"
    return str((await api_json(teacher, server, "POST", path))["pin"])
