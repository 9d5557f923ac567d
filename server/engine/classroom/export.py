"""Take it home: what a class's export holds, as plain data. Pure (no loop, no files).

A teacher's export of a class (`GET /api/classes/{id}/export`) is a ZIP of the class's runs in
a time range: the pictures under readable names (`mika-bauhaus-0930-1.png`), `prompts.csv`
(one row per run), `runs/<run>.json` (the run records) and `index.html`, a contact sheet to
print (`export_sheet.py`). This module parses and bounds the range, turns a record file into
an `ExportRun`, names the pictures and writes the CSV; `export_zip.py` reads the files and
writes the archive in a worker thread.

Times are the teacher's wall clock: the page sends its offset from UTC (`tz`, minutes east),
since the server cannot know where the classroom is.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from server.engine.picture_names import DownloadName, ascii_slug, unicode_slug
from server.protocol import StageName

#: The most runs one export holds, and the most bytes of pictures: a lesson of 30 students
#: makes a few hundred; beyond, the teacher narrows the range (`export_too_large`).
MAX_EXPORT_RUNS = 500
MAX_EXPORT_BYTES = 256 * 1024**2
#: Exports written at once on the whole server (each holds a worker thread and a temporary
#: file); one more is refused `export_busy` rather than queued.
MAX_CONCURRENT_EXPORTS = 2
#: The longest range one export covers (and the range when `since` is not given).
MAX_RANGE_DAYS = 400
#: The furthest a wall clock is from UTC, in minutes (UTC-12 to UTC+14).
MAX_TZ_MINUTES = 14 * 60
#: The longest `since` / `until` accepted, in characters (an ISO date-time with offset).
MAX_MOMENT_CHARS = 40
#: The latest moment accepted, in seconds since the epoch (the year 5138).
MAX_EPOCH = 1e11

MAX_NICKNAME_CHARS = 24
MAX_PERSPECTIVE_CHARS = 30
#: A spreadsheet runs a cell that starts with one of these as a formula: such a cell gets a
#: leading apostrophe, so a prompt like `=HYPERLINK(...)` stays text (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


class RangeError(ValueError):
    """A `since`, `until` or `tz` that is not a moment, or a range beyond the bounds."""


@dataclass(frozen=True, slots=True)
class ExportRange:
    """The runs created in [since, until), and the wall clock they are shown in."""

    since: float
    until: float
    tz_minutes: int = 0
    #: Did the teacher name a start? (Only then does the archive's name carry two dates.)
    since_given: bool = False

    @property
    def zone(self) -> timezone:
        return timezone(timedelta(minutes=self.tz_minutes))

    def local(self, moment: float) -> datetime:
        return datetime.fromtimestamp(moment, self.zone)


def parse_tz(text: str | None) -> int:
    """Minutes east of UTC (`-new Date().getTimezoneOffset()` in a page); 0 when absent."""
    if not text:
        return 0
    try:
        minutes = int(text)
    except ValueError:
        raise RangeError("tz is not a whole number of minutes") from None
    if abs(minutes) > MAX_TZ_MINUTES:
        raise RangeError("tz is beyond 14 hours")
    return minutes


def parse_moment(text: str, zone: timezone, *, end: bool) -> float:
    """Seconds since the epoch (`1796140800`), an ISO date (`2026-12-01`: its start, or for
    the `end` of a range the start of the next day) or an ISO date-time (`2026-12-01T09:30`,
    read in `zone` unless it names its own offset)."""
    if len(text) > MAX_MOMENT_CHARS:
        raise RangeError("a moment is at most 40 characters")
    try:
        moment = _epoch(text) if _is_number(text) else _iso(text, zone, end=end)
    except (ValueError, OverflowError):
        raise RangeError(f"not a moment: {text!r}") from None
    if not 0 <= moment <= MAX_EPOCH:
        raise RangeError("a moment before 1970 or too far ahead")
    return moment


def _is_number(text: str) -> bool:
    return text.replace(".", "", 1).isdecimal()


def _epoch(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _iso(text: str, zone: timezone, *, end: bool) -> float:
    if len(text) == len("2026-12-01"):
        day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
        return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.timestamp()


def export_range(since: str | None, until: str | None, tz: str | None, now: float) -> ExportRange:
    """The range a request asks for: `until` defaults to now, `since` to `MAX_RANGE_DAYS`
    before `until` (everything retention keeps); `RangeError` for a range that is empty,
    reversed or longer than `MAX_RANGE_DAYS`."""
    minutes = parse_tz(tz)
    zone = timezone(timedelta(minutes=minutes))
    end = parse_moment(until, zone, end=True) if until else now + 1
    longest = MAX_RANGE_DAYS * 86400.0
    start = parse_moment(since, zone, end=False) if since else max(0.0, end - longest)
    if start >= end:
        raise RangeError("since is not before until")
    if end - start > longest:
        raise RangeError(f"a range is at most {MAX_RANGE_DAYS} days")
    return ExportRange(start, end, minutes, since_given=bool(since))


@dataclass(frozen=True, slots=True)
class ExportRun:
    """One run as the export shows it; `record` is what `runs/<run>.json` holds."""

    run: str
    created: float
    nickname: str
    perspective: str
    prompt: str
    status: str
    reason: str | None
    texts: Mapping[str, str]
    #: The picture files in the run's folder, in output order (none for a hidden picture).
    files: Sequence[str]
    hidden: bool = False
    flagged: bool = False
    #: The compare group it belongs to (`c-...`), None for a single run.
    group: str | None = None
    record: Mapping[str, Any] = field(default_factory=dict)


#: Record keys an export leaves out: the session id, and the technical account of a failure
#: (instance names, errors: for the operator's log, not the classroom).
_OPERATOR_ONLY = ("session", "error")


def exported_record(data: Mapping[str, Any]) -> dict[str, Any]:
    """A record file as the export holds it: no session, no technical error, and of the
    owner only the nickname and class."""
    kept = {key: value for key, value in data.items() if key not in _OPERATOR_ONLY}
    owner = data.get("owner")
    if isinstance(owner, dict):
        kept["owner"] = {"nickname": owner.get("nickname"), "class_id": owner.get("class_id")}
    return kept


@dataclass(frozen=True, slots=True)
class RowFacts:
    """What the pictures index adds to a record: how the run ended (for a record that is
    gone), the teacher's marks and the compare group."""

    status: str = ""
    hidden: bool = False
    flagged: bool = False
    group: str | None = None


def export_run(
    run_id: str, created: float, files: Sequence[str], record: Any, facts: RowFacts = RowFacts()
) -> ExportRun:
    """A run from its index row's facts and its record file (None or junk when the file is
    gone: the row's facts alone, status `unknown` when the row has none either)."""
    data: Mapping[str, Any] = record if isinstance(record, dict) else {}
    inputs, owner, texts = (_part(data, key) for key in ("inputs", "owner", "texts"))
    return ExportRun(
        run=run_id,
        created=created,
        nickname=str(owner.get("nickname") or ""),
        perspective=str(inputs.get("interception") or ""),
        prompt=str(inputs.get("prompt") or ""),
        status=str(data.get("status") or facts.status or "unknown"),
        reason=None if data.get("reason") is None else str(data["reason"]),
        texts={str(stage): str(text) for stage, text in texts.items()},
        files=() if facts.hidden else tuple(files),
        hidden=facts.hidden,
        flagged=facts.flagged,
        group=facts.group,
        record=exported_record(data) if data else {"run": run_id, "created": created},
    )


def _part(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def image_names(runs: Sequence[ExportRun], export: ExportRange) -> dict[tuple[str, str], str]:
    """The ZIP path of every picture, by (run, file): `images/<nickname>-<perspective>-
    <HHMM>-<n>.<suffix>`, ASCII only, `n` counting on through every picture of the same
    name so far, so no two are alike."""
    names: dict[tuple[str, str], str] = {}
    counts: dict[str, int] = {}
    for run in runs:
        stem = _stem(run, export)
        for file in run.files:
            counts[stem] = counts.get(stem, 0) + 1
            suffix = file.rsplit(".", 1)[-1].lower() if "." in file else "png"
            names[run.run, file] = f"images/{stem}-{counts[stem]}.{suffix}"
    return names


def _stem(run: ExportRun, export: ExportRange) -> str:
    nickname = ascii_slug(run.nickname, MAX_NICKNAME_CHARS) or "student"
    perspective = ascii_slug(run.perspective, MAX_PERSPECTIVE_CHARS) or "perspective"
    return f"{nickname}-{perspective}-{export.local(run.created):%H%M}"


def text_stages(runs: Sequence[ExportRun]) -> list[str]:
    """The stages whose texts some run has, in the pipeline's order (the CSV's columns)."""
    present = {stage for run in runs for stage in run.texts}
    ordered = [stage.value for stage in StageName if stage.value in present]
    return ordered + sorted(present - set(ordered))


def prompts_csv(
    runs: Sequence[ExportRun], names: Mapping[tuple[str, str], str], export: ExportRange
) -> bytes:
    """One row per run, oldest first: UTF-8 with a byte order mark, so a spreadsheet reads
    German letters right; commas, quotes and line breaks quoted as RFC 4180 says."""
    stages = text_stages(runs)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    head = ["time", "nickname", "perspective", "prompt", "status", "reason", *stages]
    writer.writerow([*head, "pictures", "hidden", "flagged", "group", "run"])
    for run in runs:
        pictures = " ".join(names[run.run, file] for file in run.files)
        texts = [run.texts.get(stage, "") for stage in stages]
        cells = [run.nickname, run.perspective, run.prompt, run.status, run.reason or ""]
        writer.writerow(
            [export.local(run.created).isoformat(timespec="seconds")]
            + [_cell(text) for text in (*cells, *texts)]
            + [pictures, _yes(run.hidden), _yes(run.flagged), run.group or "", run.run]
        )
    return (BOM + out.getvalue()).encode()


def _yes(mark: bool) -> str:
    return "yes" if mark else ""


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def archive_name(class_name: str, export: ExportRange) -> DownloadName:
    """`4b_2026-12-01.zip` (the day it ends), or `4b_2026-11-30_2026-12-01.zip` for a
    range the teacher chose that spans days."""
    first = export.local(export.since).date()
    last = export.local(max(export.since, export.until - 1)).date()
    dates = f"{first}_{last}" if export.since_given and first != last else f"{last}"
    plain = ascii_slug(class_name, MAX_NICKNAME_CHARS * 2) or "class"
    own = unicode_slug(class_name, MAX_NICKNAME_CHARS * 2) or "class"
    return DownloadName(f"{plain}_{dates}.zip", f"{own}_{dates}.zip")
