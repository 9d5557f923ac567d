"""What a run's record file holds, as types: `RunRecord` and its parts. Pure data.

`Run.record()` builds one when the run ends and `RecordStore.write` puts it on disk as JSON.
The field order is the order of the keys in the file; `tests/unit/test_records.py` pins the
file's shape byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NotRequired, TypedDict

from server.protocol import RunEndCode, RunStatus, StageName


class Verdict(TypedDict):
    """A safety check's answer: what the model said, or that it could not say (fail-closed)."""

    safe: bool
    answer: NotRequired[str]  # the model's words, cut to 500 characters
    fail_closed: NotRequired[bool]  # no answer: blocked because the check could not run
    error: NotRequired[str]  # why it could not run


@dataclass(frozen=True, slots=True)
class RecordedInputs:
    """What the student asked for; `meta_prompt` only when the student edited it."""

    prompt: str
    interception: str
    output: str
    meta_prompt: str | None
    seed: int
    width: int | None
    height: int | None
    lang: str


@dataclass(frozen=True, slots=True)
class RunRecord:
    """Everything worth keeping about a run that ended."""

    run: str
    session: str
    created: float  # wall clock, seconds since the epoch
    inputs: RecordedInputs
    status: RunStatus
    reason: str | None
    code: RunEndCode | None
    error: str | None  # the technical account of a failure, for the operator
    texts: dict[StageName, str]
    verdicts: dict[StageName, Verdict]
    models: dict[StageName, str]
    timings: dict[StageName, float]  # unrounded, unlike `run.done`'s
    total: float | None
    outputs: list[str]
