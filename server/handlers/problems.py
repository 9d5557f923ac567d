"""The one place where HTTP API refusals become responses: `{"error": {"code", "message"}}`.

Each `ApiErrorCode` has its status and a sentence in English and German that a child or a
teacher can read (the page shows it as it is). The store's refusals (`PeopleError`, by their
`reason`) map onto these codes here, and nowhere else. Request bodies are read here too, so
that a bad one is refused the same way by every endpoint; `refusals_middleware` maps what the
store raises, so no handler needs an `except` of its own.
"""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from server.engine.people.errors import PeopleError
from server.protocol import Lang
from server.protocol._http import ApiError, ApiErrorCode, Body, ErrorDetail

BodyT = TypeVar("BodyT", bound=Body)
E = ApiErrorCode

#: Status and texts of every code, in the order of docs/http-api.md.
TEXTS: dict[ApiErrorCode, tuple[int, str, str]] = {
    E.BAD_JSON: (400, "The request was not readable.", "Die Anfrage war nicht lesbar."),
    E.INVALID_FIELD: (
        400,
        "Something in the request is missing or not allowed.",
        "In der Anfrage fehlt etwas oder etwas ist nicht erlaubt.",
    ),
    E.INVALID_NAME: (
        400,
        "This name cannot be used: it may not be empty, longer than 80 characters or hold "
        "control characters.",
        "Diesen Namen kannst du nicht nehmen: Er darf nicht leer und nicht länger als 80 "
        "Zeichen sein und keine Steuerzeichen enthalten.",
    ),
    E.INVALID_NICKNAME: (
        400,
        "This nickname cannot be used. Please choose another one.",
        "Diesen Spitznamen kannst du nicht nehmen. Bitte wähle einen anderen.",
    ),
    E.UNKNOWN_PERSPECTIVE: (
        400,
        "There is no perspective with this id. Choose one from the list.",
        "Es gibt keine Perspektive mit dieser Kennung. Wähle eine aus der Liste.",
    ),
    E.INVALID_RANGE: (
        400,
        "This time range cannot be used: check the dates (the start before the end, at most "
        "400 days).",
        "Diesen Zeitraum kann man nicht nehmen: Prüfe die Daten (der Anfang vor dem Ende, "
        "höchstens 400 Tage).",
    ),
    E.CONFIRM_MISMATCH: (
        400,
        "To confirm, type the class's name exactly as it is shown.",
        "Zur Bestätigung tippe den Namen der Klasse genau so, wie er angezeigt wird.",
    ),
    E.JOIN_REQUIRED: (
        401,
        "Please join your class first, with the code your teacher gave you.",
        "Bitte tritt zuerst deiner Klasse bei, mit dem Code von deiner Lehrerin oder deinem "
        "Lehrer.",
    ),
    E.BAD_LOGIN: (
        401,
        "The name or the password is not right.",
        "Der Name oder das Passwort stimmt nicht.",
    ),
    E.WRONG_PIN: (
        403,
        "This PIN is not right, or it is no longer valid. Ask your teacher for a new one.",
        "Diese PIN stimmt nicht oder gilt nicht mehr. Frag nach einer neuen.",
    ),
    E.NICKNAME_LOCKED: (
        403,
        "Your teacher has locked this nickname. Ask your teacher.",
        "Deine Lehrerin oder dein Lehrer hat diesen Spitznamen gesperrt. Frag nach.",
    ),
    E.TEACHERS_ONLY: (403, "Only teachers can do this.", "Das dürfen nur Lehrkräfte."),
    E.OPERATORS_ONLY: (
        403,
        "Only teachers and the server's operators can see this.",
        "Das sehen nur Lehrkräfte und wer den Server betreibt.",
    ),
    E.CSRF: (
        403,
        "Please reload the page and try again.",
        "Bitte lade die Seite neu und versuche es noch einmal.",
    ),
    E.UNKNOWN_CODE: (
        404,
        "There is no class with this code. Check the code and try again.",
        "Es gibt keine Klasse mit diesem Code. Prüfe den Code und versuche es noch einmal.",
    ),
    E.NOT_FOUND: (404, "This was not found.", "Das wurde nicht gefunden."),
    E.NICKNAME_TAKEN: (
        409,
        "This nickname is already taken in this class. Choose another one, or ask your "
        "teacher for a PIN if it is yours.",
        "Diesen Spitznamen gibt es in dieser Klasse schon. Wähle einen anderen, oder frag "
        "nach einer PIN, wenn es deiner ist.",
    ),
    E.TOO_MANY_WALL_LINKS: (
        409,
        "This class has as many wall links as it may have. Revoke one you no longer use.",
        "Diese Klasse hat schon so viele Wand-Links, wie sie haben darf. Widerrufe einen, den "
        "du nicht mehr brauchst.",
    ),
    E.TOO_MANY_WALLS: (
        409,
        "This class's wall is open on too many screens. Close one and try again.",
        "Die Wand dieser Klasse ist auf zu vielen Bildschirmen offen. Schließe einen und "
        "versuche es noch einmal.",
    ),
    E.CLASS_FULL: (
        409,
        "This class is full. Ask your teacher.",
        "Diese Klasse ist voll. Frag deine Lehrerin oder deinen Lehrer.",
    ),
    E.CODE_EXPIRED: (
        410,
        "This code is no longer valid. Ask your teacher for the new one.",
        "Dieser Code gilt nicht mehr. Frag nach dem neuen.",
    ),
    E.EXPORT_TOO_LARGE: (
        413,
        "This export would be too large. Choose a shorter time range.",
        "Dieser Export wäre zu groß. Wähle einen kürzeren Zeitraum.",
    ),
    E.RATE_LIMITED: (
        429,
        "That was too many tries. Please wait a minute and try again.",
        "Das waren zu viele Versuche. Bitte warte eine Minute und versuche es dann noch einmal.",
    ),
    E.GUESTS_LIMITED: (
        429,
        "Many new visitors came from your network just now. You can go on without saving "
        "your pictures, or try again later.",
        "Gerade kamen sehr viele neue Besucher aus deinem Netz. Du kannst ohne Speichern "
        "deiner Bilder weitermachen oder es später noch einmal versuchen.",
    ),
    E.EXPORT_BUSY: (
        429,
        "Other exports are being made right now. Please try again in a minute.",
        "Gerade werden andere Exporte erstellt. Bitte versuche es in einer Minute noch einmal.",
    ),
    E.UPLOAD_TIMEOUT: (
        408,
        "The picture took too long to arrive. Please try again, maybe with a smaller one.",
        "Das Bild hat zu lange gebraucht. Bitte versuch es noch einmal, vielleicht mit einem "
        "kleineren.",
    ),
    E.UPLOAD_TOO_LARGE: (
        413,
        "This file is too big. Please choose a smaller picture.",
        "Diese Datei ist zu groß. Bitte wähle ein kleineres Bild.",
    ),
    E.UPLOAD_NOT_IMAGE: (
        415,
        "This file is not a picture that works here. Please choose a photo or a drawing "
        "(PNG, JPEG or WebP).",
        "Diese Datei ist kein Bild, das hier geht. Bitte wähle ein Foto oder eine Zeichnung "
        "(PNG, JPEG oder WebP).",
    ),
    E.UPLOAD_BAD_IMAGE: (
        422,
        "This picture is broken or much too big. Please try another one.",
        "Dieses Bild ist kaputt oder viel zu groß. Bitte versuch ein anderes.",
    ),
    E.UPLOAD_LIMIT: (
        429,
        "You sent a lot of pictures just now. Please wait a moment, or remove one you do not "
        "need any more.",
        "Du hast gerade viele Bilder geschickt. Bitte warte kurz oder entferne eines, das du "
        "nicht mehr brauchst.",
    ),
    E.INTERNAL: (500, "Something went wrong on the server.", "Auf dem Server ging etwas schief."),
    E.UNAVAILABLE: (
        503,
        "The server is not ready for this yet. Please try again in a minute.",
        "Der Server ist dafür noch nicht bereit. Bitte versuche es in einer Minute noch einmal.",
    ),
}

#: The store's refusal reasons (`PeopleError.reason`) as API codes; the rest are `not_found`.
_REASONS: dict[str, ApiErrorCode] = {
    "invalid_field": E.INVALID_FIELD,
    "invalid_name": E.INVALID_NAME,
    "invalid_nickname": E.INVALID_NICKNAME,
    "unknown_code": E.UNKNOWN_CODE,
    "code_expired": E.CODE_EXPIRED,
    "nickname_taken": E.NICKNAME_TAKEN,
    "wrong_pin": E.WRONG_PIN,
    "nickname_locked": E.NICKNAME_LOCKED,
    "class_full": E.CLASS_FULL,
    "internal": E.INTERNAL,
}


def request_lang(request: web.Request) -> Lang:
    """German when the browser asks for it first (`Accept-Language: de...`), else English."""
    first = request.headers.get("Accept-Language", "").split(",")[0].strip().lower()
    return "de" if first.startswith("de") else "en"


def message_of(code: ApiErrorCode, lang: Lang) -> str:
    _, english, german = TEXTS[code]
    return german if lang == "de" else english


def problem(
    request: web.Request,
    code: ApiErrorCode,
    message: str | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> web.HTTPException:
    """The refusal to raise (or return) for `code`: its status, JSON body and a message."""
    status = TEXTS[code][0]
    text = message or message_of(code, request_lang(request))
    body = ApiError(error=ErrorDetail(code=code, message=text)).model_dump_json()
    error = web.HTTPException(text=body, content_type="application/json", headers=headers)
    error.set_status(status)
    return error


def store_problem(request: web.Request, exc: PeopleError) -> web.HTTPException:
    """A refusal of the store as the API's: a nickname rule keeps its own text."""
    code = _REASONS.get(exc.reason, E.NOT_FOUND)
    lang = request_lang(request)
    texts: dict[str, str] | None = getattr(exc, "texts", None)
    message = texts.get(lang) if texts else None
    if code is E.INVALID_NAME and lang == "en":
        message = str(exc)  # which rule, in English (the store has no German for it)
    return problem(request, code, message)


@web.middleware
async def refusals_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A refusal of the store (`PeopleError`) anywhere in a handler becomes the API's."""
    try:
        return await handler(request)
    except PeopleError as exc:
        raise store_problem(request, exc) from exc


async def read_body(request: web.Request, model: type[BodyT]) -> BodyT:
    """The request's JSON body as `model`; `bad_json` or `invalid_field` when it is not one.
    An empty body counts as `{}`."""
    raw = await request.read()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        code = E.BAD_JSON if _is_json_error(exc) else E.INVALID_FIELD
        raise problem(request, code) from None


def _is_json_error(exc: ValidationError) -> bool:
    return any(err["type"] == "json_invalid" for err in exc.errors())
