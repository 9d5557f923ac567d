"""One run's own state and the events it sends. Nothing here is shared between runs.

Before, per-run state lived on a shared global object and concurrent runs overwrote each other
(BACKGROUND.md). A `Run` is created per `run.start` and owned by its task; stages read their
inputs from it and write their results into it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from server.engine.errors import InvalidState
from server.engine.session import Session
from server.protocol import (
    RunDone,
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


@dataclass(slots=True)
class Run:
    id: str
    session: Session
    inputs: RunInputs
    status: RunStatus = RunStatus.QUEUED
    stage: StageName | None = None
    #: Each stage's final text, set when the stage is done.
    texts: dict[str, str] = field(default_factory=dict)
    #: Text pieces as they streamed (a list: appending to a str per token is quadratic).
    streamed: dict[str, list[str]] = field(default_factory=dict)
    verdicts: dict[str, Any] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    reason: str | None = None
    code: str | None = None
    #: The technical account of a failure (backend, instance, cause): for the record and the
    #: operator, never shown to the student.
    error: str | None = None
    accepted_at: float = field(default_factory=time.monotonic)
    created_wall: float = field(default_factory=time.time)
    #: Seconds from acceptance to the settled outcome (set by `finish`).
    total: float | None = None

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

    def stage_event(self, stage: StageName, status: StageStatus, **fields: Any) -> None:
        self.stage = stage
        self.emit(Stage, stage=stage, status=status, **fields)

    def token(self, stage: StageName, text: str, *, clear: bool = False) -> None:
        pieces = self.streamed.setdefault(stage.value, [])
        if clear:
            pieces.clear()
        pieces.append(text)
        # Straight to the session (not via `emit`): one call and one kwargs dict less per token.
        self.session.emit(Token, run=self.id, stage=stage, text=text, clear=clear)

    def texts_so_far(self) -> dict[str, str]:
        """Final texts where a stage is done, what has streamed where it is not."""
        return {**{k: "".join(v) for k, v in self.streamed.items()}, **self.texts}

    def finish(
        self, status: RunStatus, *, reason: str | None = None, code: str | None = None
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
        """Seconds per stage that ended; a stage cut off by a cancel has none."""
        return {k: round(v, 3) for k, v in self.timings.items()}

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
        )

    def record(self) -> dict[str, Any]:
        """Everything worth keeping about the run, for its record file."""
        inputs = self.inputs
        return {
            "run": self.id,
            "session": self.session.id,
            "created": self.created_wall,
            "inputs": {
                "prompt": inputs.prompt,
                "interception": inputs.interception,
                "output": inputs.output,
                "meta_prompt": inputs.meta_prompt if inputs.meta_prompt_edited else None,
                "seed": inputs.seed,
                "width": inputs.width,
                "height": inputs.height,
                "lang": inputs.lang,
            },
            "status": self.status.value,
            "reason": self.reason,
            "code": self.code,
            "error": self.error,
            "texts": self.texts_so_far(),
            "verdicts": self.verdicts,
            "models": self.models,
            "timings": self.timings,
            "total": self.total,
            "outputs": self.outputs,
        }


def _value(stage: StageName | None) -> str | None:
    return None if stage is None else stage.value
