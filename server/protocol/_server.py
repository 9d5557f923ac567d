"""Server -> client messages: every event a session receives, and their union."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from server.protocol._classroom import ClassRunView, ClassStudent
from server.protocol._vocabulary import (
    PROTOCOL_VERSION,
    AccessMode,
    BackendKind,
    BackendReason,
    BackendState,
    ErrorCode,
    Message,
    Role,
    RunEndCode,
    RunStatus,
    StageName,
    StageStatus,
)


class ServerEvent(Message):
    """Base of every server message: `type` first, then the session-wide `seq`."""

    type: str
    seq: int


class Limits(Message):
    max_message_bytes: int
    max_prompt_chars: int
    max_meta_prompt_chars: int
    max_runs_in_flight: int
    messages_per_second: float
    #: False when the person's class does not let students edit a perspective's instructions.
    edit_instructions: bool = True
    #: The largest file `POST /api/uploads` takes (`max_upload_bytes`): the page refuses a
    #: larger one at once rather than sending it over a slow line to be refused.
    max_upload_bytes: int | None = None


class You(Message):
    """Who the socket belongs to, as its upgrade proved it (never what a client message says)."""

    role: Role
    nickname: str | None = None  # a member's nickname, a teacher's name; None: a guest
    class_name: str | None = None


class Welcome(ServerEvent):
    type: Literal["welcome"] = "welcome"
    protocol: int = PROTOCOL_VERSION
    session: str
    secret: str
    resumed: bool
    limits: Limits
    heartbeat_interval: float
    demo: bool
    you: You
    access: AccessMode


class Heartbeat(ServerEvent):
    type: Literal["heartbeat"] = "heartbeat"
    time: float


class RunSnapshot(Message):
    """Everything the page needs to redraw one run after events were lost."""

    run: str
    status: RunStatus
    prompt: str
    interception: str
    stage: StageName | None = None
    texts: dict[str, str] = Field(default_factory=dict)
    outputs: list[str] = Field(default_factory=list)
    reason: str | None = None
    #: The compare the run is one perspective of (as in its `run.accepted`); None: alone.
    group: str | None = None
    #: The picture the run starts from (as in its `run.accepted`); None: none.
    input: str | None = None


class Resync(ServerEvent):
    type: Literal["resync"] = "resync"
    runs: list[RunSnapshot]


class Error(ServerEvent):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    run: str | None = None
    ref: str | None = None
    retry_after: float | None = None


class RunAccepted(ServerEvent):
    type: Literal["run.accepted"] = "run.accepted"
    run: str
    ref: str | None = None
    interception: str
    output: str
    #: A compare's id ("c-..."), the same on each of its runs' `run.accepted`; None: alone.
    group: str | None = None
    #: The URL of the upload the run starts from (`GET /api/uploads/{id}`); None: no picture.
    input: str | None = None


class Queue(ServerEvent):
    type: Literal["queue"] = "queue"
    run: str
    stage: StageName | None
    position: int
    length: int
    eta: float | None
    #: The run's class is paused by its teacher: it keeps its place, `eta` is null.
    paused: bool = False
    #: Seconds until the whole run is expected to end (its picture), steady across stages.
    run_eta: float | None = None


class Stage(ServerEvent):
    type: Literal["stage"] = "stage"
    run: str
    stage: StageName
    status: StageStatus
    text: str | None = None
    reason: str | None = None
    elapsed: float | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class Token(ServerEvent):
    type: Literal["token"] = "token"
    run: str
    stage: StageName
    text: str
    clear: bool = False


class Progress(ServerEvent):
    type: Literal["progress"] = "progress"
    run: str
    value: int
    max: int


class Preview(ServerEvent):
    type: Literal["preview"] = "preview"
    run: str
    mime: str
    data: str  # base64


class Output(ServerEvent):
    type: Literal["output"] = "output"
    run: str
    url: str
    mime: str
    index: int = 0


class Backend(ServerEvent):
    type: Literal["backend"] = "backend"
    kind: BackendKind
    instance: str
    state: BackendState
    eta: float | None = None
    reason: BackendReason | None = None


class RunDone(ServerEvent):
    type: Literal["run.done"] = "run.done"
    run: str
    status: RunStatus
    reason: str | None = None
    code: RunEndCode | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    total: float


class ClassState(ServerEvent):
    """A watched class in full (teacher only, live only: `seq` 0)."""

    type: Literal["class.state"] = "class.state"
    class_id: int
    name: str
    paused: bool
    lesson_open: bool
    students: list[ClassStudent]
    runs: list[ClassRunView]
    #: The class's waiting runs, first in line first.
    queue: list[str]


class ClassRun(ServerEvent):
    """What changed in a watched class's runs since the last one (at most ten a second)."""

    type: Literal["class.run"] = "class.run"
    class_id: int
    runs: list[ClassRunView]


class ClassPicture(ServerEvent):
    """A picture of a watched class was made, hidden, shown again or flagged."""

    type: Literal["class.picture"] = "class.picture"
    class_id: int
    kind: Literal["picture", "hidden", "shown", "flagged"]
    run: str
    picture: dict[str, Any] | None = None


ServerMessage = Annotated[
    Welcome
    | Heartbeat
    | Resync
    | Error
    | RunAccepted
    | Queue
    | Stage
    | Token
    | Progress
    | Preview
    | Output
    | Backend
    | RunDone
    | ClassState
    | ClassRun
    | ClassPicture,
    Field(discriminator="type"),
]
server_adapter: TypeAdapter[Any] = TypeAdapter(ServerMessage)
SERVER_MODELS: tuple[type[ServerEvent], ...] = (
    Welcome,
    Heartbeat,
    Resync,
    Error,
    RunAccepted,
    Queue,
    Stage,
    Token,
    Progress,
    Preview,
    Output,
    Backend,
    RunDone,
    ClassState,
    ClassRun,
    ClassPicture,
)
