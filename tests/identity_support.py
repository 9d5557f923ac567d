"""Sockets that carry an identity, in tests of the socket side without the people store.

A request with the header `X-Test-Person: <name>` gets the identity `PEOPLE[name]`, put where
the identity middleware (`server/handlers/identity.py`) puts the one a cookie proves; from the
upgrade on, everything is the real server's. Tests of the cookie itself use
`tests/people_support.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType, web
from aiohttp.typedefs import Handler, Middleware

from server.engine.people.identity import Identity, guest
from server.handlers.keys import IDENTITY
from server.protocol import PROTOCOL_VERSION, Role

PERSON_HEADER = "X-Test-Person"

FOX = Identity(Role.STUDENT, "m-1", "Fuchs", 1, "4b")
OWL = Identity(Role.STUDENT, "m-2", "Eule", 1, "4b")
TEACHER = Identity(Role.TEACHER, "t-1", "ms-lee")
PEOPLE = {"fox": FOX, "owl": OWL, "teacher": TEACHER, "guest": guest("g1")}

Message = dict[str, Any]


def as_people(people: Mapping[str, Identity]) -> Middleware:
    """A test middleware: a request naming someone of `people` (the `X-Test-Person` header, or
    `?as=<name>` in the URL) gets that identity, where the identity middleware puts the one a
    cookie proves."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        name = request.headers.get(PERSON_HEADER) or request.query.get("as")
        if name is not None:
            request[IDENTITY] = people[name]
        response: web.StreamResponse = await handler(request)
        return response

    return middleware


def with_people(app: web.Application) -> web.Application:
    """`app` with the test middleware that sets a request's identity from `PEOPLE`."""
    app.middlewares.append(as_people(PEOPLE))
    return app


def headers(person: str | None = None, address: str | None = None) -> dict[str, str]:
    """Upgrade headers: who the socket is (`PEOPLE`), and the client address a trusted proxy
    names (the test server must trust 127.0.0.1 for that)."""
    found = {PERSON_HEADER: person} if person else {}
    return found | ({"X-Forwarded-For": address} if address else {})


async def greet(ws: ClientWebSocketResponse, **fields: Any) -> Message:
    """Send `hello`; the first answer (a `welcome`, or the `error` refusing it)."""
    await ws.send_str(
        orjson.dumps({"type": "hello", "protocol": PROTOCOL_VERSION, **fields}).decode()
    )
    answer: Message = orjson.loads(await ws.receive_str(timeout=10))
    return answer


async def socket_of(
    http: ClientSession, url: str, person: str | None = None, address: str | None = None
) -> tuple[ClientWebSocketResponse, Message]:
    """A socket of `person` from `address`, greeted: the socket and the answer to `hello`."""
    ws = await http.ws_connect(url, headers=headers(person, address))
    return ws, await greet(ws)


async def close_code(ws: ClientWebSocketResponse) -> int:
    """The close code the server ends the socket with (after anything else it sends)."""
    while True:
        message = await ws.receive(timeout=10)
        if message.type is WSMsgType.CLOSE:
            return int(message.data)
        assert message.type is WSMsgType.TEXT, message
