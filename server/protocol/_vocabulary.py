"""The words both directions of the wire protocol share: the version, id formats, stable codes
and the lifecycle enums whose values go onto the wire, and the base of every message."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 1

RunId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
SessionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Lang = Literal["de", "en"]


class ErrorCode(StrEnum):
    """Stable codes of `error` messages. Clients may branch on them; never rename one."""

    BAD_JSON = "bad_json"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_FIELD = "invalid_field"
    TOO_LARGE = "too_large"
    UNSUPPORTED_FRAME = "unsupported_frame"
    RATE_LIMITED = "rate_limited"
    RESUME_LIMITED = "resume_limited"
    JOIN_REQUIRED = "join_required"
    TOO_MANY_SESSIONS = "too_many_sessions"
    HELLO_REQUIRED = "hello_required"
    ALREADY_GREETED = "already_greeted"
    PROTOCOL_VERSION = "protocol_version"
    UNKNOWN_RUN = "unknown_run"
    UNKNOWN_CONFIG = "unknown_config"
    TOO_MANY_RUNS = "too_many_runs"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    BACKEND = "backend"
    INTERNAL = "internal"
    #: `run.start` of a class member after the teacher ended the lesson (until they open one).
    LESSON_CLOSED = "lesson_closed"
    #: `class.watch` of a class that does not exist or is another teacher's (the same answer).
    UNKNOWN_CLASS = "unknown_class"
    #: `class.watch` beyond the classes one session may watch at once (`MAX_WATCHED_CLASSES`).
    TOO_MANY_CLASSES = "too_many_classes"
    #: `run.start` with edited instructions (`meta_prompt`) from a member of a class whose
    #: teacher turned editing off (`welcome`'s `limits.edit_instructions` says so first).
    EDIT_NOT_ALLOWED = "edit_not_allowed"
    #: `run.start` `image` naming no upload of this person's (another's, used, expired).
    UNKNOWN_UPLOAD = "unknown_upload"
    #: `run.start` with an `image` for an output config that takes none.
    IMAGE_NOT_ACCEPTED = "image_not_accepted"
    #: `run.start` without an `image` for an output config that needs one.
    IMAGE_REQUIRED = "image_required"


class RunEndCode(StrEnum):
    """Stable codes of how a run ended when it did not complete (`run.done`'s `code`, a failed
    `stage`'s detail, the run's record). Clients may branch on them; never rename one."""

    BLOCKED = "blocked"
    CANCELLED = "cancelled"
    INTERNAL = "internal"
    BACKEND_ERROR = "backend_error"
    BACKEND_UNAVAILABLE = "backend_unavailable"
    BACKEND_TIMEOUT = "backend_timeout"
    BACKEND_BUSY = "backend_busy"
    BACKEND_PROTOCOL = "backend_protocol"
    BACKEND_REJECTED = "backend_rejected"
    BACKEND_AUTH = "backend_auth"
    BACKEND_SERVER_ERROR = "backend_server_error"
    BACKEND_PAUSED = "backend_paused"
    BACKEND_START_FAILED = "backend_start_failed"
    BACKEND_EXECUTION_ERROR = "backend_execution_error"
    BACKEND_PROMPT_LOST = "backend_prompt_lost"
    MODEL_NOT_FOUND = "model_not_found"
    SERVER_RESTARTING = "server_restarting"
    DISK_FULL = "disk_full"


class CloseCode(IntEnum):
    """WebSocket close codes the server uses. 4xxx are Atelier's own."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down; reconnect later
    MESSAGE_TOO_BIG = 1009  # a frame beyond the hard frame cap (not the soft message limit)
    TRY_AGAIN_LATER = 1013  # the server holds its maximum number of sessions
    RATE_LIMITED = 4008  # the client kept sending faster than the rate limit allows
    SLOW_CONSUMER = 4009  # the client did not read; its outbox overflowed
    SESSION_REPLACED = 4010  # another socket resumed this session
    HELLO_TIMEOUT = 4011  # no `hello` within the handshake timeout
    PROTOCOL_VERSION = 4012  # the client speaks a protocol version we do not
    RESUME_LIMITED = 4013  # the session was resumed more often than `resumes_per_minute`
    JOIN_REQUIRED = 4014  # `codes` access mode and the socket carried no identity
    TOO_MANY_SESSIONS = 4015  # the person (or client address) holds all its sessions attached
    IDENTITY_REVOKED = 4016  # the person was removed or locked, or their class deleted


class StageName(StrEnum):
    SAFETY = "safety"
    INTERCEPTION = "interception"
    TRANSLATION = "translation"
    GENERATION = "generation"


class StageStatus(StrEnum):
    STARTED = "started"
    #: Stage 4 only, at levels with the vision check: rendered, a vision model is looking.
    CHECKING = "checking"
    DONE = "done"
    SKIPPED = "skipped"
    BLOCKED = "blocked"
    FAILED = "failed"


class RunStatus(StrEnum):
    """A run's lifecycle as the client sees it. The last four are final."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Role(StrEnum):
    """Who is at the other end of a socket or a request: a student (joined, or a guest in the
    `open` access mode) or a logged-in teacher. `welcome` says it; commands are allowed by it."""

    STUDENT = "student"
    TEACHER = "teacher"


class AccessMode(StrEnum):
    """Who may use the server (setting `access`): `open` lets anyone in as a guest student;
    `codes` lets in only students who joined a class with its code, and logged-in teachers."""

    OPEN = "open"
    CODES = "codes"


class BackendKind(StrEnum):
    """A kind of backend server. Its facts (instance class, settings, names) are one row of
    `server.engine.backends.kinds`; a new kind is a member here and a row there."""

    LLM = "llm"
    COMFYUI = "comfyui"


class BackendState(StrEnum):
    UNKNOWN = "unknown"
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    DOWN = "down"


class BackendReason(StrEnum):
    """Why a backend is not serving, in words a page can translate for a student.

    `backend` events carry this instead of the backend's own error text, which names
    addresses, ports and log files (those go to the log and `/api/status`). Never rename one.
    """

    UNREACHABLE = "unreachable"  # cannot connect, or the connection was lost
    NO_ANSWER = "no_answer"  # connected, but no answer in time (or too busy to take work)
    ERROR = "error"  # it answered, but with an error
    PAUSED = "paused"  # it failed work too often in a row and gets none for a while
    START_FAILED = "start_failed"  # Atelier could not start it
    STARTING = "starting"  # Atelier is starting it


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
