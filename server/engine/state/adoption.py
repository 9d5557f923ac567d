"""Resuming, on this instance, a session another instance held: the step before `open`.

The socket's `hello` names a session this instance does not hold, or holds a stale copy of
(another instance adopted it since: one look at the store per resume tells). If the shared
store has it, the secret is its secret and the caller may resume it, this instance takes it
over (the store now names it the owner, so the old owner's writes are refused) with its log;
`SessionRegistry.open` then resumes it like any of its own: replay (or `resync`), `welcome`,
live events, with nothing awaited in between; runs it had in flight there end after that
(`orphans.py`).
"""

from __future__ import annotations

import hmac

import structlog

from server.engine.connection import Connection
from server.engine.people.identity import Identity
from server.engine.session import Session
from server.engine.sessions import ResumeLimited, ServerFull, SessionRegistry
from server.engine.state._interface import AdoptLimited, Person, Resumes
from server.engine.state.orphans import end_orphans, unfinished_runs
from server.protocol import Hello

log = structlog.get_logger(__name__)


async def open_session(
    registry: SessionRegistry,
    connection: Connection,
    hello: Hello,
    identity: Identity,
    address: str | None,
) -> Session:
    """`SessionRegistry.open` for a socket's `hello`, after taking over the session it names
    from the store when this instance lacks it; runs that session had in flight on the old
    instance then end, live."""
    orphans = await adopt_session(registry, hello, identity, address)
    session = registry.open(
        connection, hello.session, hello.secret, hello.last_seq, identity, address
    )
    if orphans and session.id == hello.session:
        end_orphans(session, orphans)
    return session


async def adopt_session(
    registry: SessionRegistry, hello: Hello, identity: Identity, address: str | None
) -> list[str]:
    """Take over the session `hello` resumes from the store when this instance lacks it;
    the runs it had in flight elsewhere (`orphans.py`)."""
    session_id, secret, last_seq = hello.session, hello.secret, hello.last_seq
    if session_id is None or secret is None:
        return []
    held = registry.get(session_id)
    if held is not None:
        if not hmac.compare_digest(held.secret.encode(), secret.encode()):
            return []  # `open` refuses it, without asking the store
        if await registry.state.owns(session_id):
            return []  # ours: `open` resumes it from memory
        registry.taken_elsewhere(session_id)  # a stale copy: the store's is newer
    if len(registry) >= registry.config.max_sessions:
        raise ServerFull("the server holds its maximum number of sessions")
    caller, replay = Person.of(identity), registry.config.replay
    moves = Resumes(replay.resumes_per_minute, replay.resume_burst)
    try:
        found = await registry.state.adopt(
            session_id, secret, caller, last_seq, registry.log_bounds, moves
        )
    except AdoptLimited:
        log.warning("resume_refused", session=session_id, why="moved too often")
        raise ResumeLimited(replay.retry_after) from None
    if found is None or registry.get(session_id) is not None:
        return []  # unknown here too (`open` makes a fresh one), or adopted meanwhile
    registry.admit(session_id, secret, found.log, identity, address)
    orphans = unfinished_runs(found.kept)
    log.info("session_adopted", session=session_id, last_seq=last_seq, orphans=len(orphans))
    return orphans
