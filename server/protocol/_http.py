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

from server.protocol._vocabulary import AccessMode, BackendKind, Role

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
    TOO_MANY_WALL_LINKS = "too_many_wall_links"
    TOO_MANY_WALLS = "too_many_walls"
    NICKNAME_LOCKED = "nickname_locked"
    UNKNOWN_PERSPECTIVE = "unknown_perspective"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


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


class BlockedRun(Body):
    """One entry of a class's moderation log; `reason` is for the teacher only."""

    run: str
    member: int
    nickname: str
    created: float
    stage: str | None
    prompt: str
    perspective: str
    reason: str | None
    flagged: bool


class ModerationLog(Body):
    blocked: list[BlockedRun]


class ClassPictureInfo(Body):
    """One picture of a class, as its teacher's console lists it."""

    run: str
    member: int
    nickname: str
    perspective: str
    prompt: str
    created: float
    files: list[str]
    hidden: bool
    flagged: bool
    group: str | None


class ClassPictureList(Body):
    pictures: list[ClassPictureInfo]


class WallLinkInfo(Body):
    id: int
    created: float


class WallLinkCreated(Body):
    """The only answer that holds the link's token (in `url`'s fragment): it is stored hashed."""

    id: int
    url: str
    created: float


class WallLinkList(Body):
    links: list[WallLinkInfo]


class WallPicture(Body):
    """One picture on a class's wall: only what the projector shows (never a reason)."""

    run: str
    nickname: str
    perspective: str
    perspective_name: dict[str, str]
    icon: str
    color: str
    prompt: str
    created: float
    files: list[str]
    group: str | None


class WallPictures(Body):
    name: str
    pictures: list[WallPicture]


class ErrorDetail(Body):
    code: ApiErrorCode
    message: str


class ApiError(Body):
    error: ErrorDetail


class PicturesDeleted(Body):
    deleted: int


class WarmUpProgress(Body):
    """The warm-up's progress: `done` of `total` models tried, `failed` of them not loaded."""

    state: Literal["idle", "running", "done", "failed"]
    done: int
    total: int
    failed: int


class ModelReadiness(Body):
    name: str
    warm: bool


class KindReadiness(Body):
    """One kind of backend, summed up over its instances (`classroom/readiness.py`)."""

    kind: BackendKind
    state: Literal["ready", "starting", "unhealthy", "down", "unknown", "missing"]
    instances: int
    healthy: int
    startable: bool
    models: list[ModelReadiness] | None


class BackendsReadiness(Body):
    kinds: list[KindReadiness]
    warmup: WarmUpProgress


REQUEST_MODELS: tuple[type[Body], ...] = (
    PicturesDelete,
    JoinRequest,
    LoginRequest,
    ClassCreate,
    ClassChange,
    CodeRotate,
    PictureChange,
)
ANSWER_MODELS: tuple[type[Body], ...] = (
    Me,
    Person,
    ClassInfo,
    ClassList,
    MemberInfo,
    MemberList,
    PinInfo,
    BlockedRun,
    ModerationLog,
    ClassPictureInfo,
    ClassPictureList,
    WallLinkInfo,
    WallLinkCreated,
    WallLinkList,
    WallPicture,
    WallPictures,
    PicturesDeleted,
    WarmUpProgress,
    ModelReadiness,
    KindReadiness,
    BackendsReadiness,
    ErrorDetail,
    ApiError,
)
