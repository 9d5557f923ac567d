"""The pure parts of a class's export: the range a request asks for, the pictures' names,
the records as exported and `prompts.csv`."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from server.engine.classroom.export import (
    BOM,
    MAX_RANGE_DAYS,
    ExportRange,
    ExportRun,
    RangeError,
    RowFacts,
    archive_name,
    export_range,
    export_run,
    image_names,
    prompts_csv,
)

#: 2026-12-01 09:30 UTC.
NINE_THIRTY = datetime(2026, 12, 1, 9, 30, tzinfo=UTC).timestamp()
UTC_RANGE = ExportRange(NINE_THIRTY - 3600, NINE_THIRTY + 3600)


def run(
    run_id: str = "r-first001",
    *,
    nickname: str = "Mika",
    perspective: str = "bauhaus",
    prompt: str = "a fox",
    created: float = NINE_THIRTY,
    files: tuple[str, ...] = ("a.png",),
    texts: dict[str, str] | None = None,
) -> ExportRun:
    return ExportRun(
        run=run_id,
        created=created,
        nickname=nickname,
        perspective=perspective,
        prompt=prompt,
        status="completed",
        reason=None,
        texts=texts or {},
        files=files,
    )


def test_a_range_takes_epoch_seconds_dates_and_date_times_in_the_teachers_zone() -> None:
    now = NINE_THIRTY + 86400
    assert export_range("1796140800", "1796144400.5", None, now) == ExportRange(
        1796140800.0, 1796144400.5, 0, since_given=True
    )
    berlin = export_range("2026-12-01", "2026-12-01", "60", now)  # a whole day, UTC+1
    assert berlin.since == datetime(2026, 11, 30, 23, 0, tzinfo=UTC).timestamp()
    assert berlin.until == datetime(2026, 12, 1, 23, 0, tzinfo=UTC).timestamp()
    morning = export_range("2026-12-01T08:00", "2026-12-01T10:00Z", "60", now)
    assert (morning.since, morning.until) == (NINE_THIRTY - 2.5 * 3600, NINE_THIRTY + 1800)


def test_an_open_range_ends_now_and_reaches_back_the_longest_range() -> None:
    span = export_range(None, None, None, NINE_THIRTY)
    assert span.until == NINE_THIRTY + 1
    assert span.since == span.until - MAX_RANGE_DAYS * 86400
    assert not span.since_given


@pytest.mark.parametrize(
    ("since", "until", "tz"),
    [
        ("yesterday", None, None),
        ("2026-13-01", None, None),
        ("2026-12-02", "2026-12-01", None),  # reversed
        ("1796140800", "1796140800", None),  # empty
        ("2024-01-01", "2026-01-01", None),  # longer than the longest range
        ("1e400", None, None),
        ("nan", None, None),
        ("-5", None, None),
        ("9" * 41, None, None),
        (None, None, "841"),
        (None, None, "east"),
    ],
)
def test_a_range_beyond_the_rules_is_refused(
    since: str | None, until: str | None, tz: str | None
) -> None:
    with pytest.raises(RangeError):
        export_range(since, until, tz, NINE_THIRTY)


def test_pictures_are_named_by_nickname_perspective_and_time_and_never_twice() -> None:
    runs = [
        run("r-first001", files=("x_00001_.png", "x_00002_.png")),
        run("r-second01", files=("y_00001_.png",)),  # the same student, the same minute
        run("r-third001", nickname="Jörg", perspective="Ölmalerei", created=NINE_THIRTY + 60),
        run("r-fourth01", nickname="../../etc", perspective="", files=("z.webp",)),
    ]
    names = image_names(runs, ExportRange(0, 1, tz_minutes=60))
    assert names == {
        ("r-first001", "x_00001_.png"): "images/mika-bauhaus-1030-1.png",
        ("r-first001", "x_00002_.png"): "images/mika-bauhaus-1030-2.png",
        ("r-second01", "y_00001_.png"): "images/mika-bauhaus-1030-3.png",
        ("r-third001", "a.png"): "images/joerg-oelmalerei-1031-1.png",
        ("r-fourth01", "z.webp"): "images/etc-perspective-1030-1.webp",
    }


def test_an_exported_record_keeps_the_teachers_facts_but_not_the_operators() -> None:
    record = {
        "run": "r-first001",
        "session": "secret-ish",
        "owner": {"key": "m-7", "class_id": 3, "nickname": "Mika"},
        "inputs": {"prompt": "a fox", "interception": "haiku"},
        "status": "blocked",
        "reason": "Let's pick another idea.",
        "error": "gpu1 at 10.0.0.5 refused",
        "texts": {"interception": "a fox, re-imagined"},
        "verdicts": {"safety": {"safe": False, "reason": "weapons"}},
    }
    exported = export_run("r-first001", NINE_THIRTY, ["a.png"], record)
    assert (exported.nickname, exported.perspective, exported.prompt) == ("Mika", "haiku", "a fox")
    assert exported.status == "blocked"
    assert "session" not in exported.record
    assert "error" not in exported.record
    assert exported.record["owner"] == {"nickname": "Mika", "class_id": 3}
    assert exported.record["verdicts"] == record["verdicts"]  # the teacher's own export


def test_a_run_whose_record_is_gone_is_exported_from_its_row() -> None:
    exported = export_run("r-gone0001", NINE_THIRTY, ["a.png"], None)
    assert (exported.status, exported.nickname, exported.files) == ("unknown", "", ("a.png",))
    facts = RowFacts(status="completed", hidden=True, flagged=True, group="c-abcd")
    marked = export_run("r-hidden01", NINE_THIRTY, ["a.png"], None, facts)
    assert (marked.status, marked.files, marked.flagged, marked.group) == (
        "completed",
        (),
        True,
        "c-abcd",
    )


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM.encode())
    return list(csv.reader(io.StringIO(data.decode().removeprefix(BOM), newline="")))


def test_the_csv_has_one_row_per_run_and_keeps_german_commas_quotes_and_lines() -> None:
    prompt = 'Füchse, "groß" im Schnee\nund Eis'
    runs = [
        run(prompt=prompt, texts={"translation": "Foxes", "interception": "Füchse…"}),
        run("r-second01", files=(), texts={"interception": "ß"}),
    ]
    names = image_names(runs, UTC_RANGE)
    rows = read_csv(prompts_csv(runs, names, UTC_RANGE))
    assert rows[0] == [
        "time", "nickname", "perspective", "prompt", "status", "reason",
        "interception", "translation", "pictures", "hidden", "flagged", "group", "run",
    ]  # fmt: skip
    assert rows[1] == [
        "2026-12-01T09:30:00+00:00", "Mika", "bauhaus", prompt, "completed", "",
        "Füchse…", "Foxes", "images/mika-bauhaus-0930-1.png", "", "", "", "r-first001",
    ]  # fmt: skip
    assert rows[2][6:9] == ["ß", "", ""]
    assert len(rows) == 3


def test_a_prompt_that_looks_like_a_formula_stays_text() -> None:
    runs = [run(prompt='=HYPERLINK("http://x","y")', files=())]
    [_, row] = read_csv(prompts_csv(runs, {}, UTC_RANGE))
    assert row[3] == '\'=HYPERLINK("http://x","y")'


def test_the_archive_is_named_after_the_class_and_its_days() -> None:
    assert archive_name("Klasse 4b", UTC_RANGE).ascii == "klasse-4b_2026-12-01.zip"
    two_days = ExportRange(NINE_THIRTY - 86400, NINE_THIRTY, since_given=True)
    name = archive_name("Füchse", two_days)
    assert (name.ascii, name.unicode) == (
        "fuechse_2026-11-30_2026-12-01.zip",
        "füchse_2026-11-30_2026-12-01.zip",
    )
    assert archive_name("", UTC_RANGE).ascii == "class_2026-12-01.zip"
