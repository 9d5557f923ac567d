"""What every stage works with: its run, the run's scheduler ticket, and the shared services;
what a stage ends with (`StageResult`, or `Blocked`, or a `StageTimeout`).

Backend work goes through `failover` (one mechanism for every kind of backend): LLM text
through `completion`, images through `generation`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from server.engine.backends.kinds import KINDS
from server.engine.backends.notify import WaitingSessions
from server.engine.backends.registry import Backends
from server.engine.catalog import Catalog, SafetyLevel
from server.engine.classroom.export import MAX_CONCURRENT_EXPORTS
from server.engine.classroom.hub import ClassHub
from server.engine.classroom.lessons import Lessons
from server.engine.classroom.readiness import WarmUp
from server.engine.errors import AtelierError, BackendTimeout
from server.engine.llm import ChatMessage, ChatRequest
from server.engine.media import (
    DEFAULT_HELD_BYTES,
    DEFAULT_HELD_SECONDS,
    HeldMedia,
    MediaWriter,
    write_file,
)
from server.engine.picture_access import RunMedia
from server.engine.records import RecordStore
from server.engine.run import Run
from server.engine.scheduler import RunTicket, Scheduler
from server.engine.session import Session
from server.engine.uploads.store import UploadStore
from server.engine.workflows.catalog import Workflow
from server.protocol import BackendKind, RunEndCode, StageStatus


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """The pipeline's settings (the server's `Settings` hand these over)."""

    safety_level: SafetyLevel
    model_safety: str
    model_interception: str
    model_translation: str
    llm_stage_timeout: float
    #: The stage-2 word screen (`stages.screened`): longest held tail, longest hold.
    screen_tail_chars: int
    screen_hold_ms: int
    generation_timeout: float
    max_prompt_chars: int
    max_meta_prompt_chars: int
    #: Levels whose pictures a vision model checks before they are shown (`stages.vision`).
    vision_check_levels: frozenset[SafetyLevel] = frozenset()
    model_vision: str = "qwen2.5vl:3b"
    vision_max_image_bytes: int = 16 * 1024**2


@dataclass(slots=True)
class Services:
    """Shared, long-lived parts every run uses; none of them holds per-run state."""

    config: PipelineConfig
    catalog: Catalog
    workflows: dict[str, Workflow]
    backends: Backends
    scheduler: Scheduler
    records: RecordStore
    waiting: WaitingSessions = field(default_factory=WaitingSessions)
    #: Pictures the disk refused, served from memory (`server.engine.media`).
    held_media: HeldMedia[RunMedia] = field(
        default_factory=lambda: HeldMedia(DEFAULT_HELD_BYTES, DEFAULT_HELD_SECONDS)
    )
    #: How the image stage writes a picture into its run's folder (a seam for tests).
    media_writer: MediaWriter = write_file
    #: The warm-up the teacher's console starts (`classroom/readiness.py`; wiring makes it).
    warm_up: WarmUp | None = None
    #: Class exports being written at once, each in a worker thread (`handlers/export.py`).
    export_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(MAX_CONCURRENT_EXPORTS)
    )
    #: What teachers' consoles and the walls see of each class live (`classroom/hub.py`).
    classes: ClassHub = field(default_factory=ClassHub)
    #: Students' uploads until a run claims them (`uploads/store.py`; wiring makes it with
    #: its folder: without one, every upload id is unknown).
    uploads: UploadStore = field(default_factory=lambda: UploadStore(None))
    #: Classes in session: paused, lesson ended, current rules (`classroom/lessons.py`).
    lessons: Lessons = field(init=False)

    def __post_init__(self) -> None:
        self.lessons = Lessons(self.scheduler)  # wiring loads the ended lessons into it


class Blocked(AtelierError):
    """A safety check said no. `reason` is for the student, in the run's language."""

    code = RunEndCode.BLOCKED

    def __init__(self, reason: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or {}


class StageTimeout(BackendTimeout):
    """The stage's own bound passed: the instance is slow, not gone; no retry elsewhere."""

    retryable = False

    def __init__(self, *, backend: BackendKind, instance: str, limit: float) -> None:
        worker = KINDS[backend].worker
        super().__init__(
            f"the {worker} did not finish within {limit:.0f} s", backend=backend, instance=instance
        )
        self.limit = limit


@dataclass(slots=True)
class StageResult:
    status: StageStatus = StageStatus.DONE
    text: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class StageContext:
    run: Run
    session: Session  # the run's, whole: told of backend trouble while the stage waits
    ticket: RunTicket
    services: Services

    @property
    def config(self) -> PipelineConfig:
        return self.services.config

    def load(self, pool: str) -> float:
        pools = self.services.scheduler.snapshot().pools
        snap = pools.get(pool)
        return 0.0 if snap is None else (snap.running + snap.waiting) / snap.slots

    def request(self, model: str, system: str, user: str, **params: Any) -> ChatRequest:
        messages = (
            ChatMessage(role="system", content=system),
            ChatMessage(role="user", content=user),
        )
        return ChatRequest(model=model, messages=messages, **params)
