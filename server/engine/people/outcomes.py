"""Where a run stopped and why, read from its record for the pictures index's moderation
columns (`records.picture_row`). Pure.

The record keeps every safety verdict by stage (`run.verdicts`) and the seconds of each stage
that ended (`timings`, in pipeline order), so neither needs a field of its own: a blocked run
stopped where its unsafe verdict is, a failed one in the last stage that ended (a failing
stage records its time), a cancelled one in the first stage that had not ended (the one it was
in or waiting for).
"""

from __future__ import annotations

from server.engine.run_record import RunRecord, Verdict
from server.protocol import RunStatus, StageName

#: The longest reason kept for the teacher (a model's answer is cut to 500 already).
MAX_TEACHER_REASON_CHARS = 500


def _unsafe(record: RunRecord) -> tuple[StageName, Verdict] | None:
    """The last verdict that said no (a run is blocked by one)."""
    refusals = [(stage, v) for stage, v in record.verdicts.items() if not v.get("safe", False)]
    return refusals[-1] if refusals else None


def stopped_at(record: RunRecord) -> StageName | None:
    """The stage the run stopped in; None when it completed (or never got to a stage)."""
    if record.status is RunStatus.COMPLETED:
        return None
    unsafe = _unsafe(record)
    if record.status is RunStatus.BLOCKED and unsafe is not None:
        return unsafe[0]
    ended = list(record.timings)
    if record.status is RunStatus.FAILED and ended:
        return ended[-1]
    return next((stage for stage in StageName if stage not in record.timings), None)


def teacher_reason(record: RunRecord) -> str | None:
    """The entry the word list matched or the verdict's reason (else its answer, else why the
    check could not run) of a blocked run; None for any other run. For the teacher only."""
    unsafe = _unsafe(record)
    if record.status is not RunStatus.BLOCKED or unsafe is None:
        return None
    verdict = unsafe[1]
    reason = verdict.get("reason") or verdict.get("answer") or verdict.get("error")
    return reason[:MAX_TEACHER_REASON_CHARS] if reason else None
