"""The state interface's contract: the same tests against both back ends, the Redis one on a
real `redis-server` (tests/state_support.py). Two views of one store are two instances."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import generate_latest
from redis.asyncio import Redis

from server.app import socket_app
from server.engine.eventlog import EventLog
from server.engine.people.identity import anonymous, guest
from server.engine.service import NoRuns
from server.engine.session import Session
from server.engine.sessions import ReplayLimits, ResumeLimited, SessionConfig, SessionRegistry
from server.engine.state import EmbeddedState, EmbeddedStore, LogBounds, Person, SharedState
from server.engine.state._interface import AdoptLimited, Resumes, seed
from server.engine.state.adoption import open_session
from server.engine.state.redis_log import RedisLog, record_key, stream_key
from server.engine.state.redis_state import RedisState
from server.engine.stats import SocketStats
from server.handlers.keys import REGISTRY
from server.handlers.ops import METRICS
from server.protocol import PROTOCOL_VERSION, Hello, RunAccepted, RunDone, RunStatus, Token
from tests.conftest import make_settings
from tests.state_support import redis_server, redis_url
from tests.unit.test_session import INFO, connection, sent

__all__ = ["redis_server", "redis_url"]  # fixtures

BOUNDS = LogBounds(entries=100, bytes=1 << 20)
ANNE = Person("g-anne", anonymous=False)


class Views:
    """Instances on one store: `view()` opens one more."""

    def __init__(self, kind: str, url: str | None) -> None:
        self.kind = kind
        self.url = url
        self.store = EmbeddedStore()
        self.opened: list[SharedState] = []
        self.fenced: list[str] = []

    def view(self) -> SharedState:
        name = f"i{len(self.opened)}"
        state: SharedState
        state = self.store.view(name) if self.url is None else RedisState.from_url(self.url, name)
        state.on_fenced(self.fenced.append)
        self.opened.append(state)
        return state


@pytest.fixture(params=["embedded", "redis"])
async def views(request: pytest.FixtureRequest) -> AsyncIterator[Views]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    views = Views(request.param, url)
    yield views
    for state in views.opened:
        await state.aclose()


#: Moves between instances a test allows unless it tests that bound.
MOVES = Resumes(per_minute=600, burst=100)


async def adopted_log(
    state: SharedState,
    session_id: str,
    secret: str,
    caller: Person,
    last_seq: int,
    bounds: LogBounds,
) -> EventLog | None:
    found = await state.adopt(session_id, secret, caller, last_seq, bounds, MOVES)
    return None if found is None else found.log


def fill(log: EventLog, upto: int, size: int = 8) -> list[bytes]:
    datas = [f"{seq:0{size}d}".encode() for seq in range(log.last_seq + 1, upto + 1)]
    for data in datas:
        log.append(int(data), data)
    return datas


async def test_an_adopted_session_brings_its_log_and_numbers_on(views: Views) -> None:
    a, b = views.view(), views.view()
    datas = fill(a.create("s1", "secret-1", ANNE, BOUNDS), 5)
    await a.flush()
    log = await adopted_log(b, "s1", "secret-1", ANNE, 3, BOUNDS)
    assert log is not None
    assert log.last_seq == 5
    assert log.since(3) == datas[3:]
    assert log.since(0) == datas
    fill(log, 6)
    await b.flush()
    again = await adopted_log(views.view(), "s1", "secret-1", ANNE, 6, BOUNDS)
    assert again is not None
    assert again.since(4) == [*datas[4:], b"00000006"]


async def test_a_wrong_secret_another_person_or_an_unknown_id_adopts_nothing(
    views: Views,
) -> None:
    a, b = views.view(), views.view()
    a.create("s1", "secret-1", ANNE, BOUNDS)
    await a.flush()
    assert await adopted_log(b, "s1", "secret-2", ANNE, 0, BOUNDS) is None
    assert await adopted_log(b, "s1", "secret-1", Person("g-bob", False), 0, BOUNDS) is None
    assert await adopted_log(b, "s2", "secret-1", ANNE, 0, BOUNDS) is None
    assert await adopted_log(b, "s1", "secret-1", ANNE, 0, BOUNDS) is not None


async def test_cookie_less_clients_resume_by_the_secret_alone(views: Views) -> None:
    a, b = views.view(), views.view()
    one, other = Person.of(anonymous("n1")), Person.of(anonymous("n2"))
    a.create("s1", "secret-1", one, BOUNDS)
    await a.flush()
    assert await adopted_log(b, "s1", "secret-1", Person.of(guest("x")), 0, BOUNDS) is None
    assert await adopted_log(b, "s1", "secret-1", other, 0, BOUNDS) is not None


async def test_a_closed_session_is_gone_but_the_old_owner_cannot_close_an_adopted_one(
    views: Views,
) -> None:
    a, b, c = views.view(), views.view(), views.view()
    fill(a.create("s1", "k1", ANNE, BOUNDS), 2)
    a.create("s2", "k2", ANNE, BOUNDS)
    await a.flush()
    assert await adopted_log(b, "s1", "k1", ANNE, 2, BOUNDS) is not None
    a.closed("s1")  # a's copy expires after b took it over
    a.closed("s2")
    await a.flush()
    kept = await adopted_log(c, "s1", "k1", ANNE, 2, BOUNDS)
    assert kept is not None
    assert kept.last_seq == 2
    assert await adopted_log(c, "s2", "k2", ANNE, 0, BOUNDS) is None


async def test_a_shutdown_hands_its_sessions_over(views: Views) -> None:
    a, b = views.view(), views.view()
    fill(a.create("s1", "k1", ANNE, BOUNDS), 3)
    a.hand_over(60)
    a.closed("s1")
    await a.flush()
    log = await adopted_log(b, "s1", "k1", ANNE, 3, BOUNDS)
    assert log is not None
    assert log.since(1) == [b"00000002", b"00000003"]


async def test_the_log_keeps_its_bounds_in_entries_and_bytes(views: Views) -> None:
    a, b = views.view(), views.view()
    datas = fill(a.create("s1", "k1", ANNE, LogBounds(entries=4, bytes=1 << 20)), 10)
    fill(a.create("s2", "k2", ANNE, LogBounds(entries=100, bytes=250)), 10, size=100)
    await a.flush()
    short = await adopted_log(b, "s1", "k1", ANNE, 10, LogBounds(entries=4, bytes=1 << 20))
    assert short is not None
    assert len(short) == 4
    assert short.since(6) == datas[6:]
    assert short.since(5) is None  # no longer reaches back: the resume gets a resync
    narrow = await adopted_log(b, "s2", "k2", ANNE, 10, LogBounds(entries=100, bytes=250))
    assert narrow is not None
    assert len(narrow) == 2
    assert narrow.last_seq == 10


def registries(views: Views) -> tuple[SessionRegistry, SessionRegistry]:
    config = SessionConfig(max_sessions=10, resume_grace=60, event_log_limit=100)
    return (
        SessionRegistry(config, INFO, SocketStats(), views.view()),
        SessionRegistry(config, INFO, SocketStats(), views.view()),
    )


def hello(session: Session, last_seq: int) -> Hello:
    return Hello(
        type="hello",
        protocol=PROTOCOL_VERSION,
        session=session.id,
        secret=session.secret,
        last_seq=last_seq,
    )


async def test_a_session_resumes_on_another_registry_with_exactly_what_it_missed(
    views: Views,
) -> None:
    one, two = registries(views)
    first = connection()
    session = one.open(first, None, None, 0, guest("anne"))
    for text in ("a", "b", "c", "d"):
        session.emit(Token, run="r1", stage="interception", text=text)
    seen = sent(first)
    one.detach(session, first)
    await one.state.flush()
    second = connection()
    resumed = await open_session(two, second, hello(session, 2), guest("anne"), None)
    assert resumed.id == session.id
    got = sent(second)
    assert got[:3] == seen[2:]  # seq 3, 4, 5: byte for byte what the first socket got
    assert [m["seq"] for m in got] == [3, 4, 5, 6]
    assert got[3]["type"] == "welcome"
    assert got[3]["resumed"] is True
    assert resumed.emit(Token, run="r2", stage="interception", text="e") == 7
    two.detach(resumed, second)
    await two.state.flush()
    # Back to the first registry, which still holds its stale copy (seq 5): the store wins.
    third = connection()
    await open_session(one, third, hello(session, 6), guest("anne"), None)
    assert [(m["seq"], m["type"]) for m in sent(third)] == [(7, "token"), (8, "welcome")]
    await one.close_all()
    await two.close_all()


async def test_runs_left_unfinished_on_the_old_instance_end_for_the_client(
    views: Views,
) -> None:
    one, two = registries(views)
    first = connection()
    session = one.open(first, None, None, 0, guest("anne"))
    for run in ("r-done", "r-lost"):
        session.emit(RunAccepted, run=run, interception="bauhaus", output="sdxl_base")
    session.emit(Token, run="r-lost", stage="interception", text="a")
    session.emit(RunDone, run="r-done", status=RunStatus.COMPLETED, total=1.0)
    one.detach(session, first)  # the old instance dies here with r-lost running
    await one.state.flush()
    second = connection()
    await open_session(two, second, hello(session, 5), guest("anne"), None)
    got = sent(second)
    assert [m["type"] for m in got] == ["welcome", "run.done"]
    assert got[1]["run"] == "r-lost"
    assert got[1]["code"] == "server_restarting"
    assert got[1]["seq"] == got[0]["seq"] + 1
    await one.close_all()
    await two.close_all()


def _entries(rows: Any) -> list[int]:
    return [int(entry_id.split(b"-")[0]) for entry_id, _ in rows]


async def test_redis_a_replaced_owner_writes_nothing_more(redis_url: str) -> None:
    views = Views("redis", redis_url)
    a, b, c = views.view(), views.view(), views.view()
    fill(a.create("s1", "k1", ANNE, BOUNDS), 3)
    await a.flush()
    taken = await adopted_log(b, "s1", "k1", ANNE, 3, BOUNDS)
    assert taken is not None
    # a still holds its in-process copy and appends seq 4: refused, and a is told.
    assert isinstance(a, RedisState)
    stale = seed(RedisLog("s1", a.writer, 100, 1 << 20), [], 3)
    stale.append(4, b"from a")
    fill(taken, 4)
    await a.flush()
    await b.flush()
    assert views.fenced == ["s1"]
    final = await adopted_log(c, "s1", "k1", ANNE, 4, BOUNDS)
    assert final is not None
    assert final.since(3) == [b"00000004"]
    for state in views.opened:
        await state.aclose()


async def test_redis_appends_share_round_trips_and_the_stream_keeps_the_bound(
    redis_url: str,
) -> None:
    state = RedisState.from_url(redis_url, "i0")
    logs = [state.create(f"s{n}", "k", ANNE, LogBounds(8, 1 << 20)) for n in range(100)]
    for log in logs:
        fill(log, 10)
    await state.flush()
    assert state.stats.appends == 1000
    assert state.stats.round_trips <= 2  # 1100 commands queued before the first send
    client = Redis.from_url(redis_url)
    assert _entries(await client.xrange(stream_key("s7"))) == [3, 4, 5, 6, 7, 8, 9, 10]
    await client.aclose()
    await state.aclose()


async def test_redis_holds_the_secret_hashed_only(redis_url: str) -> None:
    state = RedisState.from_url(redis_url, "i0")
    state.create("s1", "the-secret", ANNE, BOUNDS)
    await state.flush()
    client = Redis.from_url(redis_url)
    stored = await client.hgetall(record_key("s1"))
    await client.aclose()
    await state.aclose()
    assert stored[b"secret"] == hashlib.sha256(b"the-secret").hexdigest().encode()
    assert not any(b"the-secret" in value for value in stored.values())


async def test_an_instance_learns_that_it_lost_a_session(views: Views) -> None:
    a, b = views.view(), views.view()
    a.create("s1", "k1", ANNE, BOUNDS)
    await a.flush()
    assert await a.owns("s1")
    assert await adopted_log(b, "s1", "k1", ANNE, 0, BOUNDS) is not None
    assert not await a.owns("s1")
    assert await b.owns("s1")


async def test_redis_a_batch_sent_again_stores_nothing_twice_and_fences_nobody(
    redis_url: str,
) -> None:
    views = Views("redis", redis_url)
    a = views.view()
    assert isinstance(a, RedisState)
    fill(a.create("s1", "k1", ANNE, BOUNDS), 3)
    await a.flush()
    for seq in (2, 3):  # as after a connection lost before Redis's answers came back
        a.writer.append("s1", seq, b"again", 1)
    await a.flush()
    client = Redis.from_url(redis_url)
    rows: Any = await client.xrange(stream_key("s1"))
    await client.aclose()
    await a.aclose()
    assert views.fenced == []
    assert [fields[b"d"] for _, fields in rows] == [b"00000001", b"00000002", b"00000003"]


async def test_redis_sessions_outlive_a_redis_that_lost_everything(redis_url: str) -> None:
    views = Views("redis", redis_url)
    a, b = views.view(), views.view()
    assert isinstance(a, RedisState)
    log = a.create("s1", "k1", ANNE, BOUNDS)
    fill(log, 3)
    await a.flush()
    client = Redis.from_url(redis_url)
    await client.flushall()  # Redis restarted with no persistence
    fill(log, 5)
    await a.flush()  # with the hash written again, after the batch that found it gone
    assert (a.stats.lost, views.fenced) == (1, [])
    kept = await adopted_log(b, "s1", "k1", ANNE, 5, BOUNDS)
    assert kept is not None
    assert kept.since(3) == [b"00000004", b"00000005"]
    assert kept.since(2) is None  # what Redis lost is lost: a resume from there gets a resync
    await client.aclose()
    for state in views.opened:
        await state.aclose()


async def test_redis_a_copy_of_a_session_closed_elsewhere_writes_nothing(redis_url: str) -> None:
    views = Views("redis", redis_url)
    a, b = views.view(), views.view()
    log = a.create("s1", "k1", ANNE, BOUNDS)
    fill(log, 2)
    await a.flush()
    taken = await adopted_log(b, "s1", "k1", ANNE, 2, BOUNDS)
    assert taken is not None
    b.closed("s1")
    await b.flush()
    fill(log, 3)  # a's stale copy
    await a.flush()
    assert views.fenced == ["s1"]
    assert not await a.owns("s1")
    assert await adopted_log(b, "s1", "k1", ANNE, 2, BOUNDS) is None
    for state in views.opened:
        await state.aclose()


async def test_redis_metrics_count_the_appends_and_their_round_trips(redis_url: str) -> None:
    app = socket_app(make_settings(state="redis", redis_url=redis_url), runs=NoRuns(), demo=True)
    state = app[REGISTRY].state
    fill(state.create("s1", "k1", ANNE, BOUNDS), 4)
    await state.flush()
    scraped = generate_latest(app[METRICS]).decode()
    await state.aclose()
    assert "atelier_state_appends_total 4.0" in scraped
    assert "atelier_state_round_trips_total 1.0" in scraped  # the hash and 4 appends: one trip
    assert "atelier_state_fenced_total 0.0" in scraped


def test_the_embedded_default_adds_no_state_metrics() -> None:
    app = socket_app(make_settings(), runs=NoRuns(), demo=True)
    assert isinstance(app[REGISTRY].state, EmbeddedState)
    assert "atelier_state_" not in generate_latest(app[METRICS]).decode()


async def test_redis_the_adopter_waits_for_the_old_owners_last_writes(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client saw seq 4 and 5 before A's writer stored them: B waits for them (XREAD)."""
    views = Views("redis", redis_url)
    a, b = views.view(), views.view()
    assert isinstance(a, RedisState)
    assert isinstance(b, RedisState)
    log = a.create("s1", "k1", ANNE, BOUNDS)
    fill(log, 3)
    await a.flush()
    waiting = asyncio.Event()
    send, xread = a.writer._send, b.client.xread

    async def late_send(batch: Any) -> Any:
        await waiting.wait()  # A's last writes leave only once B waits for them
        return await send(batch)

    async def watched_xread(*args: Any, **kwargs: Any) -> Any:
        waiting.set()
        return await xread(*args, **kwargs)

    monkeypatch.setattr(a.writer, "_send", late_send)
    monkeypatch.setattr(b.client, "xread", watched_xread)
    fill(log, 5)
    kept = await adopted_log(b, "s1", "k1", ANNE, 5, BOUNDS)
    assert waiting.is_set()
    assert kept is not None
    assert kept.since(3) == [b"00000004", b"00000005"]
    assert kept.last_seq == 5
    for state in views.opened:
        await state.aclose()


async def test_a_session_moves_between_instances_no_more_often_than_its_resume_rate(
    views: Views,
) -> None:
    """Each move reads the whole stored log: hopping between instances gets no fresh
    allowance from each (the bucket lives in the store)."""
    a, b = views.view(), views.view()
    a.create("s1", "k1", ANNE, BOUNDS)
    await a.flush()
    rate = Resumes(per_minute=0.001, burst=2)
    assert await b.adopt("s1", "k1", ANNE, 0, BOUNDS, rate) is not None
    assert await a.adopt("s1", "k1", ANNE, 0, BOUNDS, rate) is not None
    with pytest.raises(AdoptLimited):
        await b.adopt("s1", "k1", ANNE, 0, BOUNDS, rate)
    assert await a.owns("s1")  # a refused move leaves the session where it was
    assert await b.adopt("s1", "wrong", ANNE, 0, BOUNDS, rate) is None  # not a move at all


async def test_a_resume_that_moved_too_often_is_refused_like_any_too_frequent_resume(
    views: Views,
) -> None:
    config = SessionConfig(
        max_sessions=10,
        resume_grace=60,
        event_log_limit=100,
        replay=ReplayLimits(resumes_per_minute=0.001, resume_burst=1),
    )
    one = SessionRegistry(config, INFO, SocketStats(), views.view())
    two = SessionRegistry(config, INFO, SocketStats(), views.view())
    first = connection()
    session = one.open(first, None, None, 0, guest("anne"))
    one.detach(session, first)
    await one.state.flush()
    second = connection()
    moved = await open_session(two, second, hello(session, 1), guest("anne"), None)
    two.detach(moved, second)
    await two.state.flush()
    with pytest.raises(ResumeLimited):
        await open_session(one, connection(), hello(session, 2), guest("anne"), None)
    await one.close_all()
    await two.close_all()


async def test_redis_a_batch_that_breaks_the_writer_is_lost_alone(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    views = Views("redis", redis_url)
    a, b = views.view(), views.view()
    assert isinstance(a, RedisState)
    log = a.create("s1", "k1", ANNE, BOUNDS)
    await a.flush()
    send = a.writer._send
    calls = 0

    async def broken_once(batch: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug")
        return await send(batch)

    monkeypatch.setattr(a.writer, "_send", broken_once)
    async with asyncio.timeout(10):  # a dead writer would never be idle again
        fill(log, 2)
        await a.flush()
        fill(log, 4)
        await a.flush()
    assert (a.stats.failures, a.stats.dropped) == (1, 2)
    kept = await adopted_log(b, "s1", "k1", ANNE, 4, BOUNDS)
    assert kept is not None
    assert kept.since(2) == [b"00000003", b"00000004"]  # the writer went on
    assert kept.since(1) is None  # the hole: a resume from before it gets a resync
    for state in views.opened:
        await state.aclose()
