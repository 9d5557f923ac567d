"""The Redis back end's write path: a session's log appends, and one writer per instance.

`RedisLog` is the in-process `EventLog` (a resume on this instance replays from memory, as
before) that also queues each message for the session's stream. The writer sends whatever is
queued, from every session, in one pipeline per round trip, so the token path never waits on
Redis and a busy instance pays far less than one round trip per message (bench/bench_state.py
measures it). The appends queued one after another travel as ONE Lua call (`APPEND_MANY`, the
records packed in one argument): redis-py spends ~25 us of Python per command it packs and
parses, more than the rest of a token's relay. The script first checks each session is still
this instance's (`owner` in its hash): an instance that lost a session to another cannot
write a single event into its log, and the stream entry id is the `seq`, so a number is never
used twice (Redis refuses an id not above the stream's last: a batch sent again after a lost
connection stores nothing twice). The script names its keys from the session ids it unpacks,
so it needs one Redis (or a Sentinel primary), not a Cluster.
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import structlog
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError, ResponseError

from server.engine.eventlog import EventLog
from server.engine.state.log_scripts import SCRIPTS, SHA, TOMBSTONE_TTL

log = structlog.get_logger(__name__)

#: Commands one pipeline carries at most (a burst of a thousand sessions' tokens is one trip).
BATCH = 1000
#: Commands queued while Redis does not answer; beyond it new ones are dropped (and counted):
#: a lost append is a hole in a stream, which a resume elsewhere meets as a `resync`.
MAX_PENDING = 200_000
#: Seconds between attempts while Redis does not answer, first and longest.
RETRY_FIRST, RETRY_LONGEST = 0.1, 2.0


def record_key(session_id: str) -> str:
    # One hash tag per session: both keys of a session land on one Redis Cluster slot.
    return f"atelier:{{{session_id}}}:s"


def stream_key(session_id: str) -> str:
    return f"atelier:{{{session_id}}}:l"


def entry_seq(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


@dataclass(slots=True)
class WriterStats:
    """What the writer did: appends sent, pipelines (round trips), refusals, drops."""

    appends: int = 0
    commands: int = 0
    round_trips: int = 0
    fenced: int = 0
    lost: int = 0
    dropped: int = 0
    failures: int = 0


class Command(NamedTuple):
    """One queued write: a lifecycle script call (args: its ARGV), or an append (args:
    MINID, seq, data). A tuple, not a frozen dataclass: one is made per token."""

    script: str
    session_id: str
    args: tuple[Any, ...]

    def onto(self, pipe: Any) -> None:
        keys = (record_key(self.session_id), stream_key(self.session_id))
        pipe.evalsha(SHA[self.script], 2, *keys, *self.args)


def pack_appends(appends: list[Command]) -> bytes:
    """The records APPEND_MANY unpacks: session id (length-prefixed), MINID, seq, data."""
    parts = []
    for command in appends:
        sid = command.session_id.encode()
        oldest, seq, data = command.args
        parts.append(_SID.pack(len(sid)) + sid + _ENTRY.pack(oldest, seq, len(data)) + data)
    return b"".join(parts)


_SID, _ENTRY = struct.Struct(">H"), struct.Struct(">QQI")


def steps(batch: list[Command]) -> list[list[Command]]:
    """The batch as pipeline commands: each run of appends one, each lifecycle call one
    (in queue order: a session's hash is written before its first append)."""
    out: list[list[Command]] = []
    for command in batch:
        joins = command.script == "append" and out and out[-1][0].script == "append"
        if joins:
            out[-1].append(command)
        else:
            out.append([command])
    return out


class Writer:
    """One instance's queue of writes, sent in pipelines by one task."""

    def __init__(self, client: Redis, instance: str) -> None:
        self.client = client
        self.instance = instance
        self.stats = WriterStats()
        self.on_fenced: Callable[[str], None] = lambda _session_id: None
        #: Called with a session whose hash Redis no longer has (it is written again).
        self.on_lost: Callable[[str], None] = lambda _session_id: None
        self._pending: deque[Command] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def push(self, command: Command) -> None:
        if len(self._pending) >= MAX_PENDING:
            self.stats.dropped += 1
            return
        self._pending.append(command)
        self._idle.clear()
        if not self._wake.is_set():
            self._wake.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def append(self, session_id: str, seq: int, data: bytes, oldest: int) -> None:
        self.stats.appends += 1
        self.push(Command("append", session_id, (oldest, seq, data)))

    def create(self, session_id: str, fields: tuple[str, str, str], seconds: int) -> None:
        """The session's hash: (secret hash, owner key, "1" when cookie-less)."""
        self.push(Command("create", session_id, (*fields, self.instance, seconds)))

    def touch(self, session_id: str, seconds: int) -> None:
        self.push(Command("touch", session_id, (self.instance, seconds)))

    def drop(self, session_id: str) -> None:
        self.push(Command("drop", session_id, (self.instance, TOMBSTONE_TTL)))

    async def flush(self) -> None:
        """Wait until everything queued so far has been sent (or dropped)."""
        await self._idle.wait()

    async def aclose(self, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self.flush()
        except TimeoutError:
            log.warning("state_writes_lost", pending=len(self._pending))
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(BATCH, len(self._pending)))]
                await self._send_until_sent(batch)
            self._idle.set()

    async def _send_until_sent(self, batch: list[Command]) -> None:
        delay = RETRY_FIRST
        while batch:
            try:
                batch = await self._send(batch)
            except RedisError as exc:  # the server is away: keep the order, try again
                self.stats.failures += 1
                log.warning("state_write_failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_LONGEST)
            except Exception:  # a bug of ours: lose this batch, never the writer (and all after)
                self.stats.failures += 1
                self.stats.dropped += len(batch)
                log.exception("state_write_crashed", commands=len(batch))
                return

    async def _send(self, batch: list[Command]) -> list[Command]:
        """Send `batch` in one round trip; what must go again (Redis lost its scripts)."""
        pipe = self.client.pipeline(transaction=False)
        planned = steps(batch)
        for step in planned:
            if step[0].script == "append":
                pipe.evalsha(SHA["append"], 0, self.instance, pack_appends(step))
            else:
                step[0].onto(pipe)
        results = await pipe.execute(raise_on_error=False)
        self.stats.round_trips += 1
        self.stats.commands += len(planned)
        answers = list(zip(planned, results, strict=True))
        again = [c for step, r in answers if isinstance(r, NoScriptError) for c in step]
        if again:
            await self._load_scripts()
        for step, result in answers:
            self._check(step, result)
        return again

    async def _load_scripts(self) -> None:
        for text in SCRIPTS.values():
            await self.client.script_load(text)

    def _check(self, step: list[Command], result: Any) -> None:
        if isinstance(result, NoScriptError):
            return
        if isinstance(result, ResponseError):  # not ours to fix: say so, fence nobody
            log.warning("state_write_refused", script=step[0].script, error=str(result))
        elif step[0].script == "append":
            refused, lost = result
            for session_id in refused:  # another instance owns it by now, or it was closed
                self.fenced(session_id.decode())
            for session_id in lost:
                self.stats.lost += 1
                self.on_lost(session_id.decode())

    def fenced(self, session_id: str) -> None:
        self.stats.fenced += 1
        log.info("session_fenced", session=session_id)
        self.on_fenced(session_id)


class RedisLog(EventLog):
    """A session's in-process log whose every append also goes to its Redis stream."""

    __slots__ = ("_session_id", "_writer")

    def __init__(self, session_id: str, writer: Writer, limit: int, byte_limit: int) -> None:
        super().__init__(limit, byte_limit)
        self._session_id = session_id
        self._writer = writer

    def append(self, seq: int, data: bytes) -> None:
        super().append(seq, data)
        # The stream keeps what this log keeps: trimmed by entries and by bytes alike.
        self._writer.append(self._session_id, seq, data, self.last_seq - len(self) + 1)
