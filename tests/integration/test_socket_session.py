"""The WebSocket over a real port: handshake, resume across a cut connection, expiry, shutdown."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import ClientSession, WSMsgType

from server.engine.session import Session, SessionState
from server.handlers.keys import REGISTRY, STATS
from server.harness.client import AtelierClient, ClientClosed
from server.protocol import CloseCode, Token
from tests.conftest import StartServer, ws_url


async def test_handshake_welcomes_a_fresh_session(start_server: StartServer) -> None:
    server = await start_server(demo=True, max_prompt_chars=500)
    client = AtelierClient(ws_url(server))
    welcome = await client.connect()
    assert welcome["seq"] == 1
    assert welcome["resumed"] is False
    assert welcome["demo"] is True
    assert welcome["limits"]["max_prompt_chars"] == 500
    assert welcome["heartbeat_interval"] == 25.0
    assert len(welcome["secret"]) >= 32  # 192 bits, urlsafe base64
    assert server.app[REGISTRY].get(welcome["session"]) is not None
    await client.close()


async def emit_tokens(session: Session, start: int, stop: int) -> None:
    """Emit numbered token events, yielding to the loop so the socket interleaves."""
    for i in range(start, stop):
        session.emit(Token, run="r1", stage="interception", text=str(i))
        if i % 7 == 0:
            await asyncio.sleep(0)


async def test_resume_after_cut_loses_and_repeats_nothing_across_1000_events(
    start_server: StartServer,
) -> None:
    server = await start_server(event_log_limit=2000)
    client = AtelierClient(ws_url(server))
    await client.connect()
    session = server.app[REGISTRY].get(client.session or "")
    assert session is not None
    producer = asyncio.create_task(emit_tokens(session, 0, 1000))
    await client.wait_for(lambda m: m.get("text") == "300")
    client.drop()  # cut TCP mid-stream, no closing handshake
    await producer  # the run keeps producing while nobody is attached
    welcome = await client.reconnect()
    assert welcome["resumed"] is True
    await client.expect(lambda m: m.get("text") == "999")
    texts = [m["text"] for m in client.of_type("token")]
    assert texts == [str(i) for i in range(1000)]
    assert (client.gaps, client.duplicates) == (0, 0)
    assert client.replayed > 0
    assert server.app[STATS].replayed_events == client.replayed
    await client.close()


async def test_live_events_continue_after_the_replay(start_server: StartServer) -> None:
    server = await start_server()
    client = AtelierClient(ws_url(server))
    await client.connect()
    session = server.app[REGISTRY].get(client.session or "")
    assert session is not None
    client.drop()
    await emit_tokens(session, 0, 5)
    await client.reconnect()
    await emit_tokens(session, 5, 10)
    await client.expect(lambda m: m.get("text") == "9")
    assert [m["text"] for m in client.of_type("token")] == [str(i) for i in range(10)]
    assert (client.gaps, client.duplicates) == (0, 0)


async def test_resume_beyond_the_log_gets_resync(start_server: StartServer) -> None:
    server = await start_server(event_log_limit=16)
    client = AtelierClient(ws_url(server))
    await client.connect()
    session = server.app[REGISTRY].get(client.session or "")
    assert session is not None
    client.drop()
    await emit_tokens(session, 0, 50)
    messages_before = len(client.messages)
    await client.reconnect()
    kinds = [m["type"] for m in client.messages[messages_before:]]
    assert kinds == ["resync", "welcome"]
    assert server.app[STATS].resyncs == 1


async def test_wrong_secret_starts_a_fresh_session(start_server: StartServer) -> None:
    server = await start_server()
    owner = AtelierClient(ws_url(server))
    await owner.connect()
    thief = AtelierClient(ws_url(server))
    thief.session, thief.secret = owner.session, "guessed-" + "x" * 24
    welcome = await thief.connect()
    assert welcome["resumed"] is False
    assert welcome["session"] != owner.session
    assert server.app[STATS].resume_failures == 1
    owner_session = server.app[REGISTRY].get(owner.session or "")
    assert owner_session is not None
    assert owner_session.state is SessionState.ATTACHED


async def test_second_socket_on_the_same_session_replaces_the_first(
    start_server: StartServer,
) -> None:
    server = await start_server()
    first = AtelierClient(ws_url(server))
    await first.connect()
    second = AtelierClient(ws_url(server))
    second.session, second.secret, second.last_seq = first.session, first.secret, first.last_seq
    assert (await second.connect())["resumed"] is True
    with pytest.raises(ClientClosed) as info:
        await first.recv(timeout=5)
    assert info.value.code == CloseCode.SESSION_REPLACED


async def test_grace_expiry_closes_the_session_and_runs_its_cleanup_hooks(
    start_server: StartServer,
) -> None:
    server = await start_server(resume_grace=0.05)
    registry = server.app[REGISTRY]
    cleaned: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def hook(session: Session) -> None:
        cleaned.set_result(session.id)

    registry.new_session_hooks.append(lambda s: s.on_close(hook))
    client = AtelierClient(ws_url(server))
    await client.connect()
    await client.close()
    async with asyncio.timeout(5):
        assert await cleaned == client.session
    assert registry.get(client.session or "") is None
    assert server.app[STATS].sessions_expired == 1
    welcome = await client.connect()  # too late: a fresh session, never the old one
    assert welcome["resumed"] is False


async def test_reconnect_within_grace_cancels_the_expiry(start_server: StartServer) -> None:
    server = await start_server(resume_grace=0.2)
    client = AtelierClient(ws_url(server))
    await client.connect()
    client.drop()
    welcome = await client.reconnect()
    assert welcome["resumed"] is True
    session = server.app[REGISTRY].get(client.session or "")
    assert session is not None
    assert session.expiry is None


async def test_shutdown_sends_going_away_and_runs_cleanup(start_server: StartServer) -> None:
    server = await start_server()
    closed: list[str] = []

    async def hook(session: Session) -> None:
        closed.append(session.id)

    server.app[REGISTRY].new_session_hooks.append(lambda s: s.on_close(hook))
    client = AtelierClient(ws_url(server))
    await client.connect()
    async with ClientSession() as http, http.ws_connect(ws_url(server)) as raw:
        stopping = asyncio.create_task(server.close())
        with pytest.raises(ClientClosed) as info:
            await client.recv(timeout=5)
        assert info.value.code == CloseCode.GOING_AWAY
        msg = await raw.receive(timeout=5)
        assert (msg.type, msg.data) == (WSMsgType.CLOSE, CloseCode.GOING_AWAY)
        await stopping
    assert closed == [client.session]
