"""Where a run stopped and the teacher's reason, read from its record (`people.outcomes`), and
the index row that carries both (`records.picture_row`)."""

from __future__ import annotations

from dataclasses import replace

from server.engine.people.outcomes import MAX_TEACHER_REASON_CHARS, stopped_at, teacher_reason
from server.engine.records import picture_row
from server.engine.run_record import RecordedOwner, RunRecord, Verdict
from server.protocol import RunStatus, StageName
from tests.unit.test_records import failed_run

MIKA = RecordedOwner("m-7", 3, "Mika")


def blocked_at(stage: StageName, verdict: Verdict) -> RunRecord:
    record = failed_run().record().with_owner(MIKA)
    return replace(
        record,
        status=RunStatus.BLOCKED,
        verdicts={**record.verdicts, stage: verdict},
        timings={**record.timings, stage: 0.1},
    )


def test_a_word_list_block_names_the_matched_entry_and_its_stage() -> None:
    record = blocked_at(StageName.TRANSLATION, {"safe": False, "answer": "word list: knife"})
    assert stopped_at(record) is StageName.TRANSLATION
    assert teacher_reason(record) == "word list: knife"
    row = picture_row(record)
    assert row is not None
    assert (row.status, row.stage, row.teacher_reason, row.files) == (
        "blocked",
        "translation",
        "word list: knife",
        [],
    )


def test_a_verdict_gives_its_reason_before_its_answer_and_a_failed_check_its_error() -> None:
    said = blocked_at(
        StageName.SAFETY, {"safe": False, "reason": "violence", "answer": '{"decision": ...}'}
    )
    assert teacher_reason(said) == "violence"
    down = blocked_at(StageName.SAFETY, {"safe": False, "fail_closed": True, "error": "timeout"})
    assert teacher_reason(down) == "timeout"
    long = blocked_at(StageName.SAFETY, {"safe": False, "reason": "x" * 2000})
    assert teacher_reason(long) == "x" * MAX_TEACHER_REASON_CHARS


def test_runs_that_were_not_blocked_carry_no_reason() -> None:
    record = failed_run().record()  # its safety verdict said safe
    # The pipeline records the time of the stage that failed (`Pipeline._ended`).
    failed = replace(record, timings={**record.timings, StageName.TRANSLATION: 2.0})
    assert teacher_reason(failed) is None
    assert stopped_at(failed) is StageName.TRANSLATION
    completed = replace(failed, status=RunStatus.COMPLETED)
    assert (stopped_at(completed), teacher_reason(completed)) == (None, None)


def test_a_cancelled_run_stopped_in_the_first_stage_that_had_not_ended() -> None:
    cancelled = replace(failed_run().record(), status=RunStatus.CANCELLED)
    assert stopped_at(cancelled) is StageName.TRANSLATION
    waiting = replace(cancelled, timings={})
    assert stopped_at(waiting) is StageName.SAFETY
