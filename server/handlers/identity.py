"""Who a request belongs to: the `atelier_id` cookie, verified, and the person it names.

The middleware reads the cookie once per request that may need it (the API, media, the
socket, metrics; not the pages, static files or health checks), checks its signature and age
(`server.engine.people.tokens`), then loads the member or teacher from the store and compares
the row's version with the token's: a bumped version (removal, a re-join with a PIN, logout,
a new password) revokes every cookie issued before. A guest cookie
names no row and counts only in the `open` access mode. What it proves is `request[IDENTITY]`;
anything else leaves the request without one, and nobody learns why.

Cookies are issued here too, with the attributes the contract fixes: httpOnly,
`SameSite=Strict`, `Path=/`, and `Secure` behind TLS.
"""

from __future__ import annotations

import asyncio
import secrets
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from server.engine.people.identity import MEMBER_PREFIX, TEACHER_PREFIX, Identity, guest
from server.engine.people.rows import MemberRow, TeacherRow
from server.engine.people.tokens import Token, TokenKind, read, sign
from server.handlers.client_address import from_trusted_proxy
from server.handlers.keys import IDENTITY, PEOPLE, SETTINGS
from server.protocol import AccessMode, Role
from server.settings import Settings, access_mode, public_https

ID_COOKIE = "atelier_id"
#: The signing key (`signing_key.py`), loaded once when the app starts.
SIGNING_KEY = web.AppKey("signing_key", bytes)
_TOKEN = web.RequestKey("identity_token", Token)
#: When (the event loop's clock) the person's row was read: a revocation after this moment is
#: one the request's identity may not have seen (`SessionRegistry.revoked_since`).
LOOKED_UP_AT = web.RequestKey("identity_looked_up_at", float)
#: Where an identity is read: everything else (the pages, static files, health) needs none, and
#: a store lookup costs about half a millisecond (aiosqlite's thread hop and the query).
_CHECKED = ("/api/", "/media/", "/ws", "/metrics")
_GUEST_ID_BYTES = 16
_ROW_ID_DIGITS = 18  # a row id is a SQLite integer (63 bits)


def lifetimes(settings: Settings) -> dict[TokenKind, float]:
    """Seconds each kind of cookie stays valid."""
    student = settings.identity_days * 86_400
    teacher = settings.teacher_session_hours * 3600
    return {TokenKind.MEMBER: student, TokenKind.GUEST: student, TokenKind.TEACHER: teacher}


def member_identity(row: MemberRow) -> Identity:
    key = f"{MEMBER_PREFIX}{row.id}"
    return Identity(Role.STUDENT, key, row.nickname, row.class_id, row.class_name, row.rules)


def teacher_identity(row: TeacherRow) -> Identity:
    return Identity(Role.TEACHER, f"{TEACHER_PREFIX}{row.id}", row.name)


async def _person(app: web.Application, token: Token) -> Identity | None:
    """The person a valid token names, if their row still has the token's version."""
    if token.kind is TokenKind.GUEST:
        return guest(token.id) if access_mode(app[SETTINGS]) is AccessMode.OPEN else None
    if not token.id.isdecimal() or len(token.id) > _ROW_ID_DIGITS:
        return None
    people = app[PEOPLE]
    if token.kind is TokenKind.MEMBER:
        member = await people.member(int(token.id))
        return member_identity(member) if member and member.version == token.version else None
    teacher = await people.teacher(int(token.id))
    return teacher_identity(teacher) if teacher and teacher.version == token.version else None


async def identify(request: web.Request) -> Identity | None:
    """The identity the request's cookie proves (also kept on the request), or None."""
    value = request.cookies.get(ID_COOKIE)
    if not value:
        return None
    settings = request.app[SETTINGS]
    token = read(request.app[SIGNING_KEY], value, now=time.time(), lifetimes=lifetimes(settings))
    if token is None:
        return None
    request[LOOKED_UP_AT] = asyncio.get_running_loop().time()
    identity = await _person(request.app, token)
    if identity is not None:
        request[IDENTITY] = identity
        request[_TOKEN] = token
    return identity


@web.middleware
async def identity_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(_CHECKED):
        await identify(request)
    return await handler(request)


def identity_of(request: web.Request) -> Identity | None:
    """The identity the request's cookie proved, if any."""
    # Not request.get: its stubs lose the key's type.
    return request[IDENTITY] if IDENTITY in request else None  # noqa: SIM401


def token_of(request: web.Request) -> Token | None:
    """The verified token behind `request[IDENTITY]`, if any."""
    return request[_TOKEN] if _TOKEN in request else None  # noqa: SIM401


def over_tls(request: web.Request) -> bool:
    """Whether the browser reached us over https: the public address says so, the request
    came over TLS, or a trusted proxy says `X-Forwarded-Proto: https` (nobody else may)."""
    if public_https(request.app[SETTINGS]) or request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "").lower() == "https"
    return forwarded and from_trusted_proxy(request)


def set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    max_age: float,
    *,
    http_only: bool = True,
) -> None:
    """A cookie with the attributes every Atelier cookie has (SameSite=Strict, Secure behind
    TLS)."""
    response.set_cookie(
        name,
        value,
        max_age=int(max_age),
        path="/",
        httponly=http_only,
        samesite="Strict",
        secure=over_tls(request),
    )


def issue(request: web.Request, response: web.StreamResponse, token: Token) -> None:
    """Set `atelier_id` to `token`, signed, for its kind's lifetime."""
    settings = request.app[SETTINGS]
    value = sign(request.app[SIGNING_KEY], token)
    set_cookie(request, response, ID_COOKIE, value, lifetimes(settings)[token.kind])


def issue_guest(request: web.Request, response: web.StreamResponse) -> Identity:
    """A new guest (open mode): a random id, a cookie, no database row."""
    guest_id = secrets.token_urlsafe(_GUEST_ID_BYTES)
    issue(request, response, Token(TokenKind.GUEST, guest_id, 0, int(time.time())))
    return guest(guest_id)


def clear(request: web.Request, response: web.StreamResponse) -> None:
    """Remove `atelier_id` from the browser."""
    response.del_cookie(ID_COOKIE, path="/", secure=over_tls(request), samesite="Strict")
