"""Typed events of one ComfyUI job, in the order a consumer sees them.

Queued -> Started -> (Progress | Preview)* -> Output* -> Finished | Failed. `Failed` is
terminal and readable; `Finished` carries every output path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class JobState(StrEnum):
    """Lifecycle of one prompt as the client sees it."""

    SUBMITTING = "submitting"
    QUEUED = "queued"
    RUNNING = "running"
    ENDED = "ended"
    FINISHED = "finished"
    FAILED = "failed"

    def can_become(self, new: JobState) -> bool:
        return new in _TRANSITIONS[self]


_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.SUBMITTING: frozenset({JobState.QUEUED, JobState.FAILED}),
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.ENDED, JobState.FAILED}),
    JobState.RUNNING: frozenset({JobState.ENDED, JobState.FAILED}),
    JobState.ENDED: frozenset({JobState.FINISHED, JobState.FAILED}),
    JobState.FINISHED: frozenset(),
    JobState.FAILED: frozenset(),
}


@dataclass(frozen=True)
class Queued:
    prompt_id: str
    position: int


@dataclass(frozen=True)
class Started:
    prompt_id: str
    cached_nodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Progress:
    value: int
    max: int
    node: str | None


@dataclass(frozen=True)
class Preview:
    image: bytes
    mime: str
    node: str | None = None


@dataclass(frozen=True)
class Output:
    paths: tuple[Path, ...]
    mime: str
    node: str
    #: The file's bytes when the disk refused them (full, read-only): `paths` name where it
    #: would have been, and nothing is there.
    unsaved: bytes | None = None


@dataclass(frozen=True)
class Finished:
    prompt_id: str
    outputs: tuple[Path, ...]
    partial_errors: str = ""


@dataclass(frozen=True)
class Failed:
    """The job ended without a result; `message` is for people, `code` for the wire."""

    prompt_id: str | None
    message: str
    code: str = "backend_error"
    retryable: bool = False


JobEvent = Queued | Started | Progress | Preview | Output | Finished | Failed
