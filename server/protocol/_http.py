"""The JSON bodies of the HTTP API (`/api/me`, joining, teachers' logins and classes) and its
error codes. Pure data. `docs/http-api.md` documents each model; `tests/unit/test_http_doc.py`
keeps the two in step.

Requests are validated whole (unknown fields refused, every string bounded); a class's rules
arrive as an object the engine's `ClassRules` validates, so its bounds live in one place.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.protocol._vocabulary import AccessMode, Role

#: As typed: the store refuses more than 80 characters after NFKC, with a clear text.
CLASS_NAME_CHARS = 320
#: A join code as a person may type it: 8 characters, maybe with a dash and spaces.
CODE_CHARS = 32
#: Before normalisation; the store refuses more than 24 after it, with a clear text.
NICKNAME_CHARS = 200
PIN_CHARS = 16
TEACHER_NAME_CHARS = 64
PASSWORD_CHARS = 1024
#: The longest a join code may stay valid, in hours (a school year).
CODE_HOURS = 24 * 366


class ApiErrorCode(StrEnum):
    """Stable codes of HTTP API errors (`{"error": {"code", "message"}}`)."""

    BAD_JSON = "bad_json"
    INVALID_FIELD = "invalid_field"
    INVALID_RANGE = "invalid_range"
    CONFIRM_MISMATCH = "confirm_mismatch"
    JOIN_REQUIRED = "join_required"
    INVALID_NAME = "invalid_name"
    INVALID_NICKNAME = "invalid_nickname"
    UNKNOWN_CODE = "unknown_code"
    CODE_EXPIRED = "code_expired"
    NICKNAME_TAKEN = "nickname_taken"
    WRONG_PIN = "wrong_pin"
    CLASS_FULL = "class_full"
    RATE_LIMITED = "rate_limited"
    EXPORT_TOO_LARGE = "export_too_large"
    EXPORT_BUSY = "export_busy"
    GUESTS_LIMITED = "guests_limited"
    BAD_LOGIN = "bad_login"
    TEACHERS_ONLY = "teachers_only"
    OPERATORS_ONLY = "operators_only"
    CSRF = "csrf"
    NOT_FOUND = "not_found"
    NICKNAME_LOCKED = "nickname_locked"
    UNKNOWN_PERSPECTIVE = "unknown_perspective"
    TOO_MANY_WALL_LINKS = "too_many_wall_links"
    TOO_MANY_WALLS = "too_many_walls"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"
    #: `POST /api/uploads` (server/handlers/uploads.py).
    UPLOAD_TOO_LARGE = "upload_too_large"
    UPLOAD_NOT_IMAGE = "upload_not_image"
    UPLOAD_BAD_IMAGE = "upload_bad_image"
    UPLOAD_LIMIT = "upload_limit"
    UPLOAD_TIMEOUT = "upload_timeout"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Hours = Annotated[float, Field(gt=0, le=CODE_HOURS)]
Rules = Annotated[dict[str, Any], Field(max_length=16)]


# -- requests


class JoinRequest(Body):
    code: Annotated[str, Field(min_length=1, max_length=CODE_CHARS)]
    nickname: Annotated[str, Field(min_length=1, max_length=NICKNAME_CHARS)]
    pin: Annotated[str, Field(min_length=1, max_length=PIN_CHARS)] | None = None


class LoginRequest(Body):
    name: Annotated[str, Field(min_length=1, max_length=TEACHER_NAME_CHARS)]
    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_CHARS)]


class ClassCreate(Body):
    name: Annotated[str, Field(min_length=1, max_length=CLASS_NAME_CHARS)]
    rules: Rules | None = None
    code_expires_hours: Hours | None = None


class ClassChange(Body):
    name: Annotated[str, Field(min_length=1, max_length=CLASS_NAME_CHARS)] | None = None
    rules: Rules | None = None


class CodeRotate(Body):
    code_expires_hours: Hours | None = None


class PictureChange(Body):
    """A teacher's marks on a class's picture; a field left out stays as it is."""

    flagged: bool | None = None
    hidden: bool | None = None


class PicturesDelete(Body):
    """A teacher deleting a class's pictures types the class's name to confirm."""

    confirm: Annotated[str, Field(max_length=CLASS_NAME_CHARS)] = ""


# -- answers


class Me(Body):
    access: AccessMode
    role: Role | None
    nickname: str | None
    class_name: str | None
    csrf: str


class Person(Body):
    role: Role
    nickname: str | None
    class_name: str | None


class ClassInfo(Body):
    id: int
    name: str
    code: str
    code_expires: float | None
    rules: dict[str, Any]
    #: The level its runs are checked at: the stricter of the operator's and the class's own
    #: (`rules.safety_level`), so never below the operator's. Set in every answer.
    safety_level: Literal["kids", "youth", "adult", "research"] | None = None
    #: The class's queue is paused by its teacher (`POST /api/classes/{id}/pause`).
    paused: bool = False
    #: False once the teacher ended the lesson, until they open the next one.
    lesson_open: bool = True


class ClassList(Body):
    classes: list[ClassInfo]


class MemberInfo(Body):
    id: int
    nickname: str
    locked: bool = False


class MemberList(Body):
    members: list[MemberInfo]


class PinInfo(Body):
    pin: str
    expires: float


class UploadInfo(Body):
    """A stored upload (`POST /api/uploads`): its id for `run.start` `image`, the cleaned
    picture's size, and where its owner reads it."""

    id: str
    width: int
    height: int
    url: str


class ErrorDetail(Body):
    code: ApiErrorCode
    message: str


class ApiError(Body):
    error: ErrorDetail


REQUEST_MODELS: tuple[type[Body], ...] = (
    JoinRequest,
    LoginRequest,
    ClassCreate,
    ClassChange,
    CodeRotate,
    PictureChange,
    PicturesDelete,
)
ANSWER_MODELS: tuple[type[Body], ...] = (
    Me,
    Person,
    ClassInfo,
    ClassList,
    MemberInfo,
    MemberList,
    PinInfo,
    UploadInfo,
    ErrorDetail,
    ApiError,
)
