"""Who am I, joining a class, leaving, and teachers' login and logout (docs/http-api.md).

Joining is limited per client address and logging in per client address and per name
(`AttemptWindow`), so neither a join code nor a password can be guessed at speed; a refused
attempt says when to try again. In the `open` mode new guest cookies are bounded per client
address and hour (`server/engine/people/per_address.py`). Revoking (a re-join with a PIN, a
logout) bumps the row's version, which invalidates every cookie issued before, and closes
that person's sockets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog
from aiohttp import web

from server.engine.attempts import AttemptWindow
from server.engine.people.errors import CodeExpired, InvalidName, UnknownCode, WrongPin
from server.engine.people.identity import MEMBER_PREFIX, Identity
from server.engine.people.names import MAX_TEACHER_NAME, clean_name, name_key
from server.engine.people.per_address import GUEST_WINDOW, MAX_GUEST_ADDRESSES, address_key
from server.engine.people.tokens import Token, TokenKind
from server.handlers.answers import answer
from server.handlers.client_address import client_address
from server.handlers.csrf import ensure_token
from server.handlers.identity import (
    clear,
    identity_of,
    issue,
    issue_guest,
    teacher_identity,
    token_of,
)
from server.handlers.keys import PEOPLE, REGISTRY, SETTINGS
from server.handlers.problems import problem, read_body
from server.protocol import AccessMode, CloseCode, Role
from server.protocol._http import ApiErrorCode, JoinRequest, LoginRequest, Me, Person
from server.settings import Settings, access_mode

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class AuthLimits:
    """The attempt windows of one app."""

    join: AttemptWindow
    login_address: AttemptWindow
    login_name: AttemptWindow
    #: New guest cookies per client address (`per_address`): one script is not a crowd.
    guests: AttemptWindow

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthLimits:
        joins, logins = settings.join_attempts_per_minute, settings.login_attempts_per_minute
        guests = AttemptWindow(settings.guest_cookies_per_hour, GUEST_WINDOW, MAX_GUEST_ADDRESSES)
        return cls(AttemptWindow(joins), AttemptWindow(logins), AttemptWindow(logins), guests)


LIMITS = web.AppKey("auth_limits", AuthLimits)


def _limited(request: web.Request, windows: list[tuple[AttemptWindow, str]]) -> None:
    """Count one attempt in each window, or refuse (429) if any of them is full."""
    for window, key in windows:
        _refuse_if_full(request, window, key)
    now = time.monotonic()
    for window, key in windows:
        window.count(key, now)


#: Join answers that could be a guess at a code or a PIN: the attempts that count.
GUESSES = (UnknownCode, CodeExpired, WrongPin)


def _refuse_if_full(
    request: web.Request,
    window: AttemptWindow,
    key: str,
    code: ApiErrorCode = ApiErrorCode.RATE_LIMITED,
) -> None:
    now = time.monotonic()
    if not window.allows(key, now):
        log.warning("attempts_refused", path=request.path, client=client_address(request))
        headers = {"Retry-After": str(max(1, round(window.retry_after(key, now))))}
        raise problem(request, code, headers=headers)


def login_key(typed: str) -> str:
    """The name a login attempt counts against: the store's own key for it, so that spellings
    of one name (case, full-width letters, spaces) share one limit."""
    try:
        return name_key(clean_name(typed, MAX_TEACHER_NAME, "A teacher's name"))
    except InvalidName:
        return typed.casefold()


async def me(request: web.Request) -> web.Response:
    """The caller, the access mode, and the CSRF token; a guest cookie in open mode."""
    mode = access_mode(request.app[SETTINGS])
    response = web.Response(content_type="application/json")
    identity = identity_of(request)
    if identity is None and mode is AccessMode.OPEN:
        identity = _new_guest(request, response)
    csrf = ensure_token(request, response)
    role = identity.role if identity else None
    nickname, class_name = (identity.nickname, identity.class_name) if identity else (None, None)
    body = Me(access=mode, role=role, nickname=nickname, class_name=class_name, csrf=csrf)
    response.text = body.model_dump_json()
    response.headers["Cache-Control"] = "no-store"
    return response


def _new_guest(request: web.Request, response: web.Response) -> Identity:
    """A guest cookie for a browser without one, within its address's hourly bound; beyond
    it, `guests_limited` and no cookie (the page goes on without one, counted per address)."""
    window, key = request.app[LIMITS].guests, address_key(client_address(request))
    _refuse_if_full(request, window, key, ApiErrorCode.GUESTS_LIMITED)
    window.count(key, time.monotonic())
    return issue_guest(request, response)


async def join(request: web.Request) -> web.Response:
    """A student joins a class with its code and a nickname (and the teacher's PIN to take
    back a nickname that is theirs)."""
    body = await read_body(request, JoinRequest)
    window, address = request.app[LIMITS].join, client_address(request)
    _refuse_if_full(request, window, address)
    people, now = request.app[PEOPLE], time.time()
    try:
        klass = await people.class_for_code(body.code, now)
        member = await people.join(
            klass.id,
            body.nickname,
            body.pin,
            now,
            max_members=request.app[SETTINGS].max_class_members,
        )
    except GUESSES:
        # Only what could be a guess counts: a whole class joining from one school address
        # (one NAT) must not be refused, but codes and PINs must not be guessed at speed.
        window.count(address, time.monotonic())
        raise
    if body.pin is not None:  # a re-join with a PIN: the old device's sockets go
        request.app[REGISTRY].close_identity(
            f"{MEMBER_PREFIX}{member.id}", CloseCode.IDENTITY_REVOKED
        )
    response = answer(Person(role=Role.STUDENT, nickname=member.nickname, class_name=klass.name))
    issue(request, response, Token(TokenKind.MEMBER, str(member.id), member.version, int(now)))
    log.info("member_joined", member=member.id, class_id=klass.id, pin=body.pin is not None)
    return response


async def leave(request: web.Request) -> web.Response:
    """Forget this browser's identity (the member stays in the class; a PIN brings them back)."""
    response = web.Response(status=204)
    clear(request, response)
    return response


async def teacher_login(request: web.Request) -> web.Response:
    body = await read_body(request, LoginRequest)
    limits = request.app[LIMITS]
    address = client_address(request)
    _limited(request, [(limits.login_address, address), (limits.login_name, login_key(body.name))])
    teacher = await request.app[PEOPLE].check_login(body.name, body.password)
    if teacher is None:
        log.warning("teacher_login_refused", client=address)
        raise problem(request, ApiErrorCode.BAD_LOGIN)
    identity = teacher_identity(teacher)
    response = answer(Person(role=Role.TEACHER, nickname=identity.nickname, class_name=None))
    token = Token(TokenKind.TEACHER, str(teacher.id), teacher.version, int(time.time()))
    issue(request, response, token)
    log.info("teacher_logged_in", teacher=teacher.id)
    return response


async def teacher_logout(request: web.Request) -> web.Response:
    """End every login of this teacher (all devices): their version moves on."""
    identity = identity_of(request)
    token = token_of(request)
    if identity is not None and identity.is_teacher and token is not None:
        await request.app[PEOPLE].bump_teacher_version(int(token.id))
        request.app[REGISTRY].close_identity(identity.key, CloseCode.IDENTITY_REVOKED)
        log.info("teacher_logged_out", teacher=int(token.id))
    response = web.Response(status=204)
    clear(request, response)
    return response
