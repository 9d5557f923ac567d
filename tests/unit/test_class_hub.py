"""The class hub without a socket: who may watch, what a console receives, what it costs.

Sessions here are real `Session`s on a connection whose writer never runs, so what a console
was sent is exactly what waits in its outbox (`Connection.pending`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from server.engine.classroom.hub import MAX_WATCHED_CLASSES, ClassHub, TooManyClasses
from server.engine.classroom.live import LiveRun
from server.engine.classroom.live_class import KEPT_FINISHED_PER_MEMBER
from server.engine.classroom.wall import WallEvent
from server.engine.connection import Connection
from server.engine.people.identity import ClassRules, Identity, anonymous
from server.engine.people.rows import ClassRow, MemberRow
from server.engine.run import Run, RunInputs
from server.engine.session import Session
from server.engine.stats import SocketStats
from server.handlers.commands import COMMANDS, Caller
from server.protocol import (
    ErrorCode,
    Preview,
    Progress,
    ProtocolError,
    Queue,
    Role,
    RunStatus,
    StageName,
    StageStatus,
    parse_client,
)
from tests.pipeline_support import until
from tests.unit.test_session import INFO, NullTransport

CLASS_ID = 3
TEACHER_ID = 7
RULES = ClassRules()


def attached(
    identity: Identity, limit: int = 1000, stats: SocketStats | None = None
) -> tuple[Session, Connection]:
    """A session on a connection whose writer never runs: nothing it is sent drains."""
    session = Session(
        f"s-{identity.key}", "secret", log_limit=100, stats=SocketStats(), identity=identity
    )
    connection = Connection(
        NullTransport(),
        outbox_limit=limit,
        send_timeout=1,
        heartbeat_idle=1,
        on_idle=lambda: None,
        stats=stats or SocketStats(),
    )
    session.attach(connection, None, INFO)
    return session, connection


def teacher(
    teacher_id: int = TEACHER_ID, limit: int = 1000, stats: SocketStats | None = None
) -> tuple[Session, Connection]:
    return attached(Identity(Role.TEACHER, f"t-{teacher_id}", "ms-lee"), limit, stats)


def member(member_id: int, nickname: str, class_id: int = CLASS_ID) -> tuple[Session, Connection]:
    return attached(Identity(Role.STUDENT, f"m-{member_id}", nickname, class_id, "4b", RULES))


def class_messages(connection: Connection, kind: str | None = None) -> list[dict[str, Any]]:
    """What the console was sent besides its own session's events (`seq` 0 only)."""
    sent = [orjson.loads(data) for data in connection.pending()]
    return [m for m in sent if m["seq"] == 0 and (kind is None or m["type"] == kind)]


class Directory:
    """The people store's two reads, for one class of teacher 7 with two members."""

    def __init__(self) -> None:
        self.classes = {CLASS_ID: ClassRow(CLASS_ID, TEACHER_ID, "4b", "ABCDEFGH", None, RULES, 0)}
        self.members = [
            MemberRow(11, CLASS_ID, "Mika", 1, 0.0, "4b", RULES),
            MemberRow(12, CLASS_ID, "Fuchs", 1, 0.0, "4b", RULES, locked=True),
        ]

    async def get_class(self, class_id: int) -> ClassRow | None:
        return self.classes.get(class_id)

    async def members_of(self, class_id: int) -> list[MemberRow]:
        return list(self.members) if class_id in self.classes else []


def run_of(session: Session, run_id: str = "r-1", prompt: str = "a fox") -> Run:
    inputs = RunInputs(prompt, "bauhaus", "sdxl", "", False, 1, None, None, "en")
    return Run(run_id, session, inputs)


@pytest.fixture
def hub() -> ClassHub:
    hub = ClassHub()
    hub.directory = Directory()
    return hub


async def watching(hub: ClassHub) -> tuple[Session, Connection]:
    console, out = teacher()
    hub.request_watch(console, CLASS_ID)
    await hub.settled()
    return console, out


async def test_a_teacher_watching_their_class_gets_its_state_with_online_flags(
    hub: ClassHub,
) -> None:
    mika, _ = member(11, "Mika")
    hub.session_opened(mika)
    _, out = await watching(hub)
    [state] = class_messages(out, "class.state")
    assert state["class_id"] == CLASS_ID
    assert state["name"] == "4b"
    assert state["students"] == [
        {"member": 12, "nickname": "Fuchs", "online": False, "locked": True},
        {"member": 11, "nickname": "Mika", "online": True, "locked": False},
    ]
    assert (state["paused"], state["lesson_open"], state["runs"], state["queue"]) == (
        False,
        True,
        [],
        [],
    )


@pytest.mark.parametrize("class_id", [CLASS_ID, 99])
async def test_another_teachers_class_and_a_missing_one_get_the_same_refusal(
    hub: ClassHub, class_id: int
) -> None:
    other, out = teacher(teacher_id=8) if class_id == CLASS_ID else teacher()
    hub.request_watch(other, class_id)
    await hub.settled()
    [error] = class_messages(out)
    assert (error["type"], error["code"]) == ("error", "unknown_class")
    assert hub.watched_by(other) == frozenset()
    mika, _ = member(11, "Mika")
    hub.run_started(run_of(mika))  # nothing of the class reaches the refused console
    assert class_messages(out) == [error]


@pytest.mark.parametrize(
    "identity",
    [
        Identity(Role.STUDENT, "m-11", "Mika", CLASS_ID, "4b", RULES),  # a member of the class
        anonymous("nobody"),  # a socket without any cookie (the `open` access mode)
    ],
    ids=["student", "nobody"],
)
def test_a_student_or_nobody_cannot_send_class_watch(hub: ClassHub, identity: Identity) -> None:
    session, _ = attached(identity)
    message = parse_client(b'{"type": "class.watch", "class_id": 3}')
    with pytest.raises(ProtocolError) as info:
        COMMANDS.dispatch(Caller(session, identity.role, runs=None, classes=hub), message)  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.UNKNOWN_TYPE
    assert hub.watched_by(session) == frozenset()


async def test_one_console_watches_a_bounded_number_of_classes(hub: ClassHub) -> None:
    console, _ = teacher()
    for class_id in range(1, MAX_WATCHED_CLASSES + 1):
        hub.watch(class_id, console)
    hub.request_watch(console, 1)  # one it watches already: fine
    with pytest.raises(TooManyClasses):
        hub.request_watch(console, MAX_WATCHED_CLASSES + 1)
    await hub.settled()


async def test_a_burst_of_class_watch_still_watches_a_bounded_number(hub: ClassHub) -> None:
    """Every request passes the first check while none is looked up yet: the bound holds
    when the lookups end."""
    assert isinstance(hub.directory, Directory)
    many = range(1, MAX_WATCHED_CLASSES + 3)
    for class_id in many:
        hub.directory.classes[class_id] = ClassRow(
            class_id, TEACHER_ID, f"class {class_id}", "ABCDEFGH", None, RULES, 0
        )
    console, out = teacher()
    for class_id in many:
        hub.request_watch(console, class_id)
    await hub.settled()
    assert len(hub.watched_by(console)) == MAX_WATCHED_CLASSES
    errors = [m["code"] for m in class_messages(out, "error")]
    assert errors == ["too_many_classes"] * (len(many) - MAX_WATCHED_CLASSES)


async def test_an_unwatch_while_the_class_is_looked_up_wins(hub: ClassHub) -> None:
    console, out = teacher()
    hub.watch(1, console)  # so the session has a watch whose generation can move
    hub.request_watch(console, CLASS_ID)
    hub.unwatch(console)
    await hub.settled()
    assert hub.watched_by(console) == frozenset()
    assert [m["class_id"] for m in class_messages(out, "class.state")] == [1]


async def test_tokens_are_coalesced_and_the_console_rebuilds_the_text(hub: ClassHub) -> None:
    mika, _ = member(11, "Mika")
    _, out = await watching(hub)
    run = run_of(mika)
    hub.run_started(run)
    run.move(RunStatus.RUNNING)
    run.stage_event(StageName.INTERCEPTION, StageStatus.STARTED)
    words = [f"word{i} " for i in range(200)]
    for word in words:
        run.token(StageName.INTERCEPTION, word)
    assert class_messages(out, "class.run") == []  # nothing per token: the flush sends
    await until(lambda: bool(class_messages(out, "class.run")))
    [update] = class_messages(out, "class.run")
    [view] = update["runs"]
    assert (view["run"], view["member"], view["nickname"]) == ("r-1", 11, "Mika")
    assert (view["at"], view["piece"]) == (0, "".join(words))
    run.token(StageName.INTERCEPTION, "more")
    await until(lambda: len(class_messages(out, "class.run")) == 2)
    view = class_messages(out, "class.run")[1]["runs"][0]
    assert (view["at"], view["piece"]) == (len("".join(words)), "more")


async def test_a_cleared_text_is_sent_whole_again(hub: ClassHub) -> None:
    mika, _ = member(11, "Mika")
    _, out = await watching(hub)
    run = run_of(mika)
    hub.run_started(run)
    run.stage_event(StageName.INTERCEPTION, StageStatus.STARTED)
    run.token(StageName.INTERCEPTION, "a long first try")
    await until(lambda: bool(class_messages(out, "class.run")))
    run.token(StageName.INTERCEPTION, "new", clear=True)
    await until(lambda: len(class_messages(out, "class.run")) == 2)
    view = class_messages(out, "class.run")[1]["runs"][0]
    assert (view["at"], view["piece"]) == (0, "new")


async def test_the_image_stage_shows_the_text_the_stages_before_it_made(hub: ClassHub) -> None:
    mika, _ = member(11, "Mika")
    _, out = await watching(hub)
    run = run_of(mika)
    hub.run_started(run)
    run.texts[StageName.INTERCEPTION] = "a fox of circles"
    run.stage_event(StageName.GENERATION, StageStatus.STARTED)
    await until(lambda: bool(class_messages(out, "class.run")))
    view = class_messages(out, "class.run")[0]["runs"][0]
    assert (view["stage"], view["at"], view["piece"]) == ("generation", 0, "a fox of circles")


async def test_queue_progress_and_preview_reach_the_view_and_the_line(hub: ClassHub) -> None:
    mika, _ = member(11, "Mika")
    fuchs, _ = member(12, "Fuchs")
    first, second = run_of(mika, "r-1"), run_of(fuchs, "r-2")
    for run in (first, second):
        hub.run_started(run)
    second.emit(Queue, stage=StageName.GENERATION, position=1, length=2, eta=4.0)
    first.emit(Queue, stage=StageName.GENERATION, position=2, length=2, eta=9.0)
    _, out = await watching(hub)
    [state] = class_messages(out, "class.state")
    assert state["queue"] == ["r-2", "r-1"]
    views = {v["run"]: v for v in state["runs"]}
    assert (views["r-1"]["place"], views["r-1"]["length"], views["r-1"]["eta"]) == (2, 2, 9.0)
    first.stage_event(StageName.GENERATION, StageStatus.STARTED)
    first.emit(Progress, value=3, max=20)
    await until(lambda: bool(class_messages(out, "class.run")))
    [view] = class_messages(out, "class.run")[0]["runs"]
    assert (view["place"], view["progress"], view["progress_max"]) == (None, 3, 20)


async def test_a_preview_goes_to_the_console_once_and_is_flagged_after(hub: ClassHub) -> None:
    mika, _ = member(11, "Mika")
    _, out = await watching(hub)
    run = run_of(mika)
    hub.run_started(run)
    run.stage_event(StageName.GENERATION, StageStatus.STARTED)
    run.emit(Preview, mime="image/jpeg", data="AAAA")
    await until(lambda: bool(class_messages(out, "class.run")))
    run.emit(Progress, value=2, max=8)
    await until(lambda: len(class_messages(out, "class.run")) == 2)
    first, second = (m["runs"][0] for m in class_messages(out, "class.run"))
    assert (first["preview"], first["preview_mime"], first["preview_data"]) == (
        True,
        "image/jpeg",
        "AAAA",
    )
    assert (second["preview"], second["preview_data"]) == (True, None)


async def test_class_messages_stay_out_of_the_consoles_replay_log(hub: ClassHub) -> None:
    mika, _ = member(11, "Mika")
    console, out = await watching(hub)
    run = run_of(mika)
    hub.run_started(run)
    run.stage_event(StageName.INTERCEPTION, StageStatus.STARTED)
    await until(lambda: bool(class_messages(out, "class.run")))
    assert console.seq == 1  # its welcome only: nothing of the class was numbered or logged


async def test_nothing_is_marked_while_nobody_watches(hub: ClassHub) -> None:
    mika, _ = member(11, "Mika")
    run = run_of(mika)
    hub.run_started(run)
    run.stage_event(StageName.INTERCEPTION, StageStatus.STARTED)
    for _ in range(50):
        run.token(StageName.INTERCEPTION, "x")
    assert hub.live(CLASS_ID).dirty == set()


async def test_finished_runs_are_kept_per_member_within_a_bound(hub: ClassHub) -> None:
    mika, _ = member(11, "Mika")
    for i in range(KEPT_FINISHED_PER_MEMBER + 3):
        run = run_of(mika, f"r-{i}")
        hub.run_started(run)
        run.finish(RunStatus.COMPLETED)
        run.announce_done()
    kept = list(hub.live(CLASS_ID).runs)
    assert kept == [f"r-{i}" for i in range(3, KEPT_FINISHED_PER_MEMBER + 3)]


async def test_publish_reaches_the_wall_and_the_watching_console(hub: ClassHub) -> None:
    wall = hub.wall.subscribe(CLASS_ID)
    assert wall is not None
    _, out = await watching(hub)
    hub.publish(CLASS_ID, WallEvent(kind="hidden", run="r-1"))
    assert await wall.next(timeout=1) == WallEvent(kind="hidden", run="r-1")
    [picture] = class_messages(out, "class.picture")
    assert (picture["kind"], picture["run"], picture["picture"]) == ("hidden", "r-1", None)


async def test_a_closed_console_session_watches_nothing(hub: ClassHub) -> None:
    console, _ = await watching(hub)
    await console.close()
    assert hub.watched_by(console) == frozenset()
    assert hub.live(CLASS_ID).watchers == set()


async def test_a_class_change_sends_a_fresh_state_without_removed_members(hub: ClassHub) -> None:
    _, out = await watching(hub)
    assert isinstance(hub.directory, Directory)
    fuchs, _ = member(12, "Fuchs")
    hub.run_started(run_of(fuchs))
    hub.directory.members = [  # Fuchs removed, Igel joined
        MemberRow(11, CLASS_ID, "Mika", 1, 0.0, "4b", RULES),
        MemberRow(13, CLASS_ID, "Igel", 1, 0.0, "4b", RULES),
    ]
    hub.class_changed(CLASS_ID)
    await hub.settled()
    states = class_messages(out, "class.state")
    assert [s["nickname"] for s in states[-1]["students"]] == ["Igel", "Mika"]
    assert states[-1]["runs"] == []  # the removed member's run is not listed


async def test_a_failing_tap_never_reaches_the_students_run(
    hub: ClassHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    mika, student_out = member(11, "Mika")
    run = run_of(mika)
    hub.run_started(run)

    def broken(*args: object) -> None:
        raise RuntimeError("a bug in the hub")

    monkeypatch.setattr(LiveRun, "event", broken)
    run.emit(Progress, value=1, max=2)
    assert orjson.loads(student_out.pending()[-1])["type"] == "progress"


class CountingDirectory(Directory):
    """Counts the class reads; each waits a loop turn, as the store's thread does."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get_class(self, class_id: int) -> ClassRow | None:
        self.reads += 1
        await asyncio.sleep(0)
        return self.classes.get(class_id)


async def test_a_burst_of_class_changes_is_one_refresh_and_one_more_read() -> None:
    hub = ClassHub()
    directory = hub.directory = CountingDirectory()
    _, out = await watching(hub)
    before = (directory.reads, len(class_messages(out, "class.state")))
    for _ in range(100):  # a teacher clicking pause and resume as fast as a script can
        hub.class_changed(CLASS_ID)
    directory.members = [MemberRow(13, CLASS_ID, "Igel", 1, 0.0, "4b", RULES)]
    hub.class_changed(CLASS_ID)  # the last change: its state must still arrive
    await hub.settled()
    reads, states = directory.reads - before[0], class_messages(out, "class.state")[before[1] :]
    assert (reads, len(states)) == (2, 2)
    assert [s["nickname"] for s in states[-1]["students"]] == ["Igel"]
    hub.class_changed(CLASS_ID)  # a change after the burst is read again
    await hub.settled()
    assert directory.reads - before[0] == 3
