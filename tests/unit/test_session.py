"""Sessions without sockets: state machine, numbering, replay, resync, cleanup hooks."""

from __future__ import annotations

import asyncio
import tracemalloc
from typing import Any

import orjson
import pytest

from server.engine.connection import Connection
from server.engine.errors import InvalidState
from server.engine.people.identity import guest
from server.engine.session import Session, SessionState, WelcomeInfo, check_transition
from server.engine.stats import SocketStats
from server.protocol import CloseCode, Limits, RunSnapshot, Token

INFO = WelcomeInfo(
    Limits(
        max_message_bytes=1,
        max_prompt_chars=1,
        max_meta_prompt_chars=1,
        max_runs_in_flight=1,
        messages_per_second=1.0,
    ),
    25.0,
    demo=True,
)


class NullTransport:
    async def send(self, data: bytes) -> None:
        raise AssertionError("pure tests never run the writer")

    async def close(self, code: int, message: str) -> None:
        raise AssertionError("pure tests never run the writer")

    def abort(self) -> None:
        raise AssertionError("pure tests never run the writer")


def connection(limit: int = 100) -> Connection:
    return Connection(
        NullTransport(),
        outbox_limit=limit,
        send_timeout=1,
        heartbeat_idle=1,
        on_idle=lambda: None,
        stats=SocketStats(),
    )


def session(log_limit: int = 100) -> Session:
    return Session(
        "sid", "secret", log_limit=log_limit, stats=SocketStats(), identity=guest("test")
    )


def sent(conn: Connection) -> list[dict[str, Any]]:
    return [orjson.loads(data) for data in conn.pending()]


def token(s: Session, text: str) -> int:
    return s.emit(Token, run="r1", stage="interception", text=text)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (SessionState.CLOSED, SessionState.ATTACHED),
        (SessionState.CLOSED, SessionState.DETACHED),
        (SessionState.ATTACHED, SessionState.ATTACHED),
        (SessionState.DETACHED, SessionState.DETACHED),
    ],
)
def test_illegal_transitions_raise(current: SessionState, new: SessionState) -> None:
    with pytest.raises(InvalidState):
        check_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (SessionState.ATTACHED, SessionState.DETACHED),
        (SessionState.DETACHED, SessionState.ATTACHED),
        (SessionState.ATTACHED, SessionState.CLOSED),
        (SessionState.DETACHED, SessionState.CLOSED),
    ],
)
def test_legal_transitions_pass(current: SessionState, new: SessionState) -> None:
    check_transition(current, new)


def test_a_fresh_attach_sends_welcome_as_seq_one() -> None:
    s, conn = session(), connection()
    s.attach(conn, None, INFO)
    [welcome] = sent(conn)
    assert welcome["type"] == "welcome"
    assert (welcome["seq"], welcome["resumed"], welcome["session"]) == (1, False, "sid")
    assert s.state is SessionState.ATTACHED


def test_events_while_detached_are_numbered_and_logged_not_sent() -> None:
    s, first = session(), connection()
    s.attach(first, None, INFO)
    assert s.detach(first)
    assert [token(s, t) for t in "abc"] == [2, 3, 4]
    assert len(sent(first)) == 1


def test_resume_replays_missed_events_then_welcome_without_gap() -> None:
    s, first = session(), connection()
    s.attach(first, None, INFO)
    token(s, "a")
    s.detach(first)
    token(s, "b")
    token(s, "c")
    second = connection()
    s.attach(second, 2, INFO)
    messages = sent(second)
    assert [m["seq"] for m in messages] == [3, 4, 5]
    assert [m.get("text") for m in messages[:2]] == ["b", "c"]
    assert messages[-1]["type"] == "welcome"
    assert messages[-1]["resumed"] is True


def test_resume_beyond_the_log_sends_resync_with_snapshots() -> None:
    s, first = session(log_limit=4), connection()
    snapshot = RunSnapshot(run="r1", status="running", prompt="p", interception="i")
    s.snapshot = lambda: [snapshot]
    s.attach(first, None, INFO)
    s.detach(first)
    for text in "abcdefgh":
        token(s, text)
    second = connection()
    s.attach(second, 1, INFO)
    kinds = [(m["type"], m["seq"]) for m in sent(second)]
    assert kinds == [("resync", 10), ("welcome", 11)]
    assert sent(second)[0]["runs"][0]["run"] == "r1"


def test_outbox_overflow_closes_the_connection_as_slow_consumer() -> None:
    s, conn = session(), connection(limit=3)
    s.attach(conn, None, INFO)
    token(s, "a")
    token(s, "b")
    assert not conn.closing
    token(s, "c")
    assert conn.closing
    assert s.log.last_seq == 4  # nothing is lost: the log keeps it for a resume


def test_a_second_socket_replaces_the_first() -> None:
    s, first, second = session(), connection(), connection()
    s.attach(first, None, INFO)
    s.replace_connection()
    s.attach(second, 1, INFO)
    assert first.closing
    assert s.connection is second
    assert not s.detach(first)  # the old socket's late detach must not unbind the new one


async def test_close_runs_every_hook_once_even_if_one_fails() -> None:
    s, calls = session(), []

    async def failing(_: Session) -> None:
        calls.append("failing")
        raise RuntimeError("boom")

    async def counting(closed: Session) -> None:
        calls.append(closed.state.value)

    s.on_close(failing)
    s.on_close(counting)
    await s.close(CloseCode.GOING_AWAY)
    await s.close()
    assert calls == ["failing", "closed"]
    assert s.emit(Token, run="r", stage="safety", text="x") == 0


def test_secret_never_appears_in_repr() -> None:
    assert "secret" not in repr(session())
    assert asyncio.iscoroutinefunction(Session.close)


#: What one kept message may cost beyond its encoded bytes: the `bytes` object header, the
#: `(seq, data)` tuple and its seq int, and the deque's slot (about 150 bytes on CPython 3.11).
LOGGED_MESSAGE_OVERHEAD = 192


def test_a_logged_token_message_holds_little_more_than_its_encoded_size() -> None:
    s = session(log_limit=1000)
    token(s, "warm-up")  # the deque's first block and any first-use caches
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(200):
            token(s, f" word{i}")
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    encoded = sum(len(data) for data in s.log.since(1) or [])  # the 200 after the warm-up
    assert held <= encoded + 200 * LOGGED_MESSAGE_OVERHEAD, (held, encoded)


def test_resume_whose_replay_exceeds_its_byte_bound_gets_a_resync() -> None:
    s = Session(
        "sid",
        "secret",
        log_limit=100,
        stats=SocketStats(),
        replay_bytes=560,  # the last token, a resync and a welcome (with every limit)
        identity=guest("test"),
    )
    s.attach(connection(), None, INFO)
    for i in range(20):  # about 80 bytes each: 1.6 KB in the log, all of it kept
        token(s, f"w{i}")
    s.detach(s.connection)  # type: ignore[arg-type]
    conn = connection()
    s.attach(conn, 0, INFO)
    assert [m["type"] for m in sent(conn)] == ["resync", "welcome"]
    recent = connection()
    s.detach(conn)
    s.attach(recent, s.seq - 3, INFO)  # the last token, resync and welcome fit: replayed
    assert [m["type"] for m in sent(recent)] == ["token", "resync", "welcome", "welcome"]
