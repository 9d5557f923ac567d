"""One run's own state and the events it sends. Nothing here is shared between runs.

Before, per-run state lived on a shared global object and concurrent runs overwrote each other
(BACKGROUND.md). A `Run` is created per `run.start` and owned by its task; stages read their
inputs from it and write their results into it, per stage keyed by `StageName`.

Pure: a run knows its session only as a `SessionLike` (an id, its owner's identity and `emit`),
so this module and `admission` load without asyncio or aiohttp.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.engine.catalog import SafetyLevel
from server.engine.errors import InvalidState
from server.engine.people.identity import Identity
from server.engine.run_record import RecordedInputs, RunRecord, Verdict
from server.engine.uploads import InputImage
from server.protocol import (
    RunDone,
    RunEndCode,
    RunSnapshot,
    RunStatus,
    ServerEvent,
    Stage,
    StageName,
    StageStatus,
    Token,
)

FINAL = frozenset({RunStatus.COMPLETED, RunStatus.BLOCKED, RunStatus.CANCELLED, RunStatus.FAILED})
_ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING} | FINAL),
    RunStatus.RUNNING: FINAL,
    **{status: frozenset() for status in FINAL},
}


class SessionLike(Protocol):
    """What a run needs of its session: the session's id, whose it is (the run's owner), and
    numbering and sending one of its events (`Session` is the real one)."""

    @property
    def id(self) -> str: ...

    @property
    def identity(self) -> Identity: ...

    def emit(self, message_type: type[ServerEvent], **fields: Any) -> object: ...


class RunTap(Protocol):
    """Who else hears a run's events besides its session: the class hub, for a class
    member's runs (`server/engine/classroom/hub.py`). Called after the session's own send."""

    def event(self, run: Run, message_type: type[ServerEvent], fields: dict[str, Any]) -> None: ...

    def token(self, run: Run, clear: bool) -> None: ...


def new_run_id() -> str:
    return "r-" + secrets.token_urlsafe(9)


@dataclass(frozen=True, slots=True)
class RunInputs:
    """What the student asked for, validated. Immutable for the whole run."""

    prompt: str
    interception: str
    output: str
    meta_prompt: str
    meta_prompt_edited: bool
    seed: int
    width: int | None
    height: int | None
    lang: str

    def recorded(self) -> RecordedInputs:
        """The inputs as the record keeps them: the meta-prompt only when it was edited."""
        meta_prompt = self.meta_prompt if self.meta_prompt_edited else None
        return RecordedInputs(
            prompt=self.prompt,
            interception=self.interception,
            output=self.output,
            meta_prompt=meta_prompt,
            seed=self.seed,
            width=self.width,
            height=self.height,
            lang=self.lang,
        )


@dataclass(slots=True)
class Run:
    id: str
    session: SessionLike
    inputs: RunInputs
    #: The level its safety checks use: the operator's or its class's, whichever is stricter
    #: (set at admission; the strictest by default, so a run never goes unchecked by mistake).
    safety_level: SafetyLevel = SafetyLevel.KIDS
    #: The compare this run is one perspective of (`server/engine/compare.py`); None: alone.
    group: str | None = None
    status: RunStatus = RunStatus.QUEUED
    stage: StageName | None = None
    #: Each stage's final text, set when the stage is done.
    texts: dict[StageName, str] = field(default_factory=dict)
    #: Text pieces as they streamed (a list: appending to a str per token is quadratic).
    streamed: dict[StageName, list[str]] = field(default_factory=dict)
    verdicts: dict[StageName, Verdict] = field(default_factory=dict)
    #: Which model answered each stage, as "model@instance".
    models: dict[StageName, str] = field(default_factory=dict)
    #: Seconds per stage that ended.
    timings: dict[StageName, float] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    reason: str | None = None
    code: RunEndCode | None = None
    #: The technical account of a failure (backend, instance, cause): for the record and the
    #: operator, never shown to the student.
    error: str | None = None
    accepted_at: float = field(default_factory=time.monotonic)
    created_wall: float = field(default_factory=time.time)
    #: Seconds from acceptance to the settled outcome (set by `finish`).
    total: float | None = None
    #: Set by `Pipeline.start` for a class member's run (`ClassHub.run_started`).
    tap: RunTap | None = None
    #: The student's own picture this run starts from (`run.start` `image`, claimed from the
    #: upload store at admission); None: from the prompt alone.
    input_image: InputImage | None = None

    # -- lifecycle

    def move(self, new: RunStatus) -> None:
        if new not in _ALLOWED[self.status]:
            raise InvalidState(f"run {self.id} cannot go from {self.status} to {new}")
        self.status = new

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    # -- events (all numbered through the session, so they replay on resume)

    def emit(self, message_type: type[ServerEvent], **fields: Any) -> None:
        self.session.emit(message_type, run=self.id, **fields)
        if self.tap is not None:
            self.tap.event(self, message_type, fields)

    def stage_event(self, stage: StageName, status: StageStatus, **fields: Any) -> None:
        self.stage = stage
        self.emit(Stage, stage=stage, status=status, **fields)

    def token(self, stage: StageName, text: str, *, clear: bool = False) -> None:
        pieces = self.streamed.setdefault(stage, [])
        if clear:
            pieces.clear()
        pieces.append(text)
        # Straight to the session (not via `emit`): one call and one kwargs dict less per token.
        self.session.emit(Token, run=self.id, stage=stage, text=text, clear=clear)
        if self.tap is not None:
            self.tap.token(self, clear)

    def texts_so_far(self) -> dict[StageName, str]:
        """Final texts where a stage is done, what has streamed where it is not."""
        return {**{k: "".join(v) for k, v in self.streamed.items()}, **self.texts}

    def finish(
        self, status: RunStatus, *, reason: str | None = None, code: RunEndCode | None = None
    ) -> None:
        """Settle the outcome; `announce_done` then tells the client, exactly once."""
        self.move(status)
        self.reason, self.code = reason, code
        self.total = round(time.monotonic() - self.accepted_at, 3)

    def announce_done(self) -> None:
        """The run's one and only `run.done`."""
        if not self.finished or self.total is None:
            raise InvalidState(f"run {self.id} has not finished")
        self.emit(
            RunDone,
            status=self.status,
            reason=self.reason,
            code=self.code,
            timings=self.rounded_timings(),
            total=self.total,
        )

    def rounded_timings(self) -> dict[str, float]:
        """Seconds per stage that ended, by stage name (as `run.done` and the log carry them);
        a stage cut off by a cancel has none."""
        return {k.value: round(v, 3) for k, v in self.timings.items()}

    def outcome(self) -> dict[str, Any]:
        """How the run ended, for its `run_done` log line: ids and figures, never the prompt
        (a child's text stays in the record, which `retention_hours` deletes)."""
        return {
            "run": self.id,
            "session": self.session.id,
            "status": self.status.value,
            "stage": None if self.status is RunStatus.COMPLETED else _value(self.stage),
            "code": self.code,
            "timings": self.rounded_timings(),
            "total": self.total,
        }

    def accepted(self) -> dict[str, Any]:
        """What `run.accepted` says of the run (again for a repeated `ref`: `repeats`)."""
        inputs, image = self.inputs, self.input_image
        return {
            "interception": inputs.interception,
            "output": inputs.output,
            "group": self.group,
            "input": None if image is None else image.url,
        }

    def snapshot(self) -> RunSnapshot:
        return RunSnapshot(
            run=self.id,
            status=self.status,
            prompt=self.inputs.prompt,
            interception=self.inputs.interception,
            stage=self.stage,
            texts=self.texts_so_far(),
            outputs=list(self.outputs),
            reason=self.reason,
            group=self.group,
            input=None if self.input_image is None else self.input_image.url,
        )

    def record(self) -> RunRecord:
        """Everything worth keeping about the run, for its record file."""
        return RunRecord(
            run=self.id,
            session=self.session.id,
            group=self.group,
            created=self.created_wall,
            inputs=self.inputs.recorded(),
            status=self.status,
            reason=self.reason,
            code=self.code,
            error=self.error,
            texts=self.texts_so_far(),
            verdicts=dict(self.verdicts),
            models=dict(self.models),
            timings=dict(self.timings),
            total=self.total,
            outputs=list(self.outputs),
        )


def _value(stage: StageName | None) -> str | None:
    return None if stage is None else stage.value
