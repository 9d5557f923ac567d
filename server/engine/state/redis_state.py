"""The Redis back end (`state = "redis"`): sessions any instance on the same Redis resumes.

Per session, two keys with one hash tag: a hash (`secret`: the SHA-256 of the resume secret,
`key` and `anon`: whose session it is, `owner`: the instance that holds it) and a stream (the
encoded messages, entry id `<seq>-0`, trimmed to what the owner's in-process log keeps). Writes
go through the instance's `Writer` (pipelined, never awaited by a socket); `adopt` is the one
read, once per resume on an instance that does not hold the session. The client is redis-py's
asyncio client (`redis.asyncio`), the maintained one; no protocol is written by hand here.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import secrets
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from server.engine.eventlog import EventLog
from server.engine.state._interface import (
    STATE_COUNTERS,
    Adopted,
    AdoptLimited,
    FencedHook,
    LogBounds,
    Person,
    Resumes,
    secret_hash,
    seed,
)
from server.engine.state.redis_log import (
    RedisLog,
    Writer,
    WriterStats,
    entry_seq,
    record_key,
    stream_key,
)

log = structlog.get_logger(__name__)

#: Seconds a session with a socket is kept: a school day and then some. A detached one is kept
#: for its `resume_grace` plus `KEEP_MARGIN`, so that a resume near the end still finds it.
ATTACHED_TTL = 12 * 3600
KEEP_MARGIN = 30
#: Seconds one adoption may take in all (else: a fresh session, as for an unknown one), and
#: how long it waits for the old owner's last appends to land (the client saw them already).
ADOPT_TIMEOUT = 5.0
LAST_WRITES_WAIT = 1.0
#: Seconds `aclose` waits for the queued writes.
CLOSE_TIMEOUT = 5.0

# KEYS: hash, stream. ARGV: secret hash, this instance, caller's key, caller cookie-less ("1"),
# seconds to keep, adoptions per millisecond, their burst. 1: taken over; 0: not this
# caller's; -1: moved too often (a token bucket in the hash, on Redis's clock). The caller
# check is `Person.may_resume`. Comparing hashes in Lua leaks, in its timing, how much of the
# SHA-256 of a guess matches: nothing about the secret.
ADOPT = """
local rec = redis.call('HMGET', KEYS[1], 'secret', 'key', 'anon')
if not rec[1] or rec[1] ~= ARGV[1] then return 0 end
if rec[2] ~= ARGV[3] and not (rec[3] == '1' and ARGV[4] == '1') then return 0 end
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
local burst = tonumber(ARGV[7])
local moves = redis.call('HMGET', KEYS[1], 'moves', 'moved')
local left = tonumber(moves[1]) or burst
left = math.min(burst, left + (now - (tonumber(moves[2]) or now)) * tonumber(ARGV[6]))
if left < 1 then
  redis.call('HSET', KEYS[1], 'moves', tostring(left), 'moved', tostring(now))
  return -1
end
redis.call('HSET', KEYS[1], 'moves', tostring(left - 1), 'moved', tostring(now))
redis.call('HSET', KEYS[1], 'owner', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 1
"""


class RedisState:
    """One instance's view of the sessions on one Redis."""

    def __init__(self, client: Redis, instance: str | None = None) -> None:
        self.client = client
        self.instance = instance or secrets.token_urlsafe(9)
        self.writer = Writer(client, self.instance)
        self.writer.on_lost = self._write_again
        #: Each held session's hash fields (secret hash, key, cookie-less), to write it again
        #: if Redis loses it: a Redis restart must not end every session of every instance.
        self._fields: dict[str, tuple[str, str, str]] = {}
        self._kept_on_close: int | None = None  # seconds, once handing over

    @classmethod
    def from_url(cls, url: str, instance: str | None = None) -> RedisState:
        return cls(Redis.from_url(url), instance)

    @property
    def stats(self) -> WriterStats:
        return self.writer.stats

    def create(self, session_id: str, secret: str, person: Person, bounds: LogBounds) -> EventLog:
        fields = self._fields[session_id] = (
            secret_hash(secret),
            person.key,
            _flag(person.anonymous),
        )
        self.writer.create(session_id, fields, ATTACHED_TTL)
        return RedisLog(session_id, self.writer, bounds.entries, bounds.bytes)

    def attached(self, session_id: str) -> None:
        self.writer.touch(session_id, ATTACHED_TTL)

    def detached(self, session_id: str, grace: float) -> None:
        self.writer.touch(session_id, math.ceil(grace) + KEEP_MARGIN)

    def hand_over(self, grace: float) -> None:
        self._kept_on_close = math.ceil(grace) + KEEP_MARGIN

    def _write_again(self, session_id: str) -> None:
        fields = self._fields.get(session_id)
        if fields is not None:
            log.warning("state_session_lost", session=session_id)
            self.writer.create(session_id, fields, ATTACHED_TTL)

    def closed(self, session_id: str) -> None:
        self._fields.pop(session_id, None)
        if self._kept_on_close is None:
            self.writer.drop(session_id)
        else:
            self.writer.touch(session_id, self._kept_on_close)

    def on_fenced(self, hook: FencedHook) -> None:
        self.writer.on_fenced = hook

    def counters(self) -> dict[str, int]:
        return {name: getattr(self.writer.stats, name) for name in STATE_COUNTERS}

    async def flush(self) -> None:
        await self.writer.flush()

    async def aclose(self) -> None:
        await self.writer.aclose(CLOSE_TIMEOUT)
        await self.client.aclose()

    # -- adoption

    async def owns(self, session_id: str) -> bool:
        try:
            owner = await self.client.hget(record_key(session_id), "owner")
        except RedisError as exc:  # the local copy is all there is to go by
            log.warning("state_owner_unknown", session=session_id, error=repr(exc))
            return True
        return owner is None or _text(owner) == self.instance

    async def adopt(
        self,
        session_id: str,
        secret: str,
        caller: Person,
        last_seq: int,
        bounds: LogBounds,
        resumes: Resumes,
    ) -> Adopted | None:
        try:
            async with asyncio.timeout(ADOPT_TIMEOUT):
                claim = (session_id, secret, caller, last_seq)
                return await self._adopt_now(claim, bounds, resumes)
        except (RedisError, TimeoutError) as exc:
            log.warning("state_adopt_failed", session=session_id, error=repr(exc))
            return None

    async def _adopt_now(
        self, claim: tuple[str, str, Person, int], bounds: LogBounds, resumes: Resumes
    ) -> Adopted | None:
        session_id, secret, caller, last_seq = claim
        args = (secret_hash(secret), self.instance, caller.key, _flag(caller.anonymous))
        top = await self._top_if_resumable(session_id, args[0], caller)
        if top is None:
            return None  # unknown, ended, or not this caller's: no wait, no claim
        if top < last_seq <= top + bounds.entries:
            top = await self._wait_for(session_id, top, last_seq)
        keys = (record_key(session_id), stream_key(session_id))
        rate = (resumes.per_minute / 60_000, resumes.burst)
        won = await self.client.eval(ADOPT, 2, *keys, *args, ATTACHED_TTL, *rate)
        if won == -1:
            raise AdoptLimited
        if won != 1:
            return None
        # Read only once claimed: the whole log, so a refused or limited caller costs little.
        rows: Any = await self.client.xrevrange(stream_key(session_id), count=bounds.entries)
        entries = [(entry_seq(entry_id), fields[b"d"]) for entry_id, fields in reversed(rows)]
        top = max([top, *(seq for seq, _ in entries[-1:])])
        log = self._seeded(session_id, bounds, entries, top, last_seq)
        self._fields[session_id] = (args[0], caller.key, args[3])
        return Adopted(log, [data for _, data in entries])

    def _seeded(
        self,
        session_id: str,
        bounds: LogBounds,
        entries: list[tuple[int, bytes]],
        top: int,
        last_seq: int,
    ) -> RedisLog:
        fresh = RedisLog(session_id, self.writer, bounds.entries, bounds.bytes)
        if top < last_seq <= top + bounds.entries:
            # The old owner died before its last writes landed: the client saw events the
            # store never got. Number on past them, and past one more, so that the resume
            # gets a `resync` (its seq above anything the client saw), never a reused seq.
            log.warning("state_writes_missing", session=session_id, missing=last_seq - top)
            return seed(fresh, [], last_seq + 1)
        return seed(fresh, entries, top)

    async def _top_if_resumable(self, session_id: str, hashed: str, caller: Person) -> int | None:
        """The last seq the session's stream ever took (0: none yet), if the secret and the
        caller fit (the adopt script checks again, atomically, when it claims the session);
        None otherwise. One round trip."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(record_key(session_id), ["secret", "key", "anon"])
        pipe.xinfo_stream(stream_key(session_id))
        (stored, key, anon), info = await pipe.execute(raise_on_error=False)
        if stored is None or not hmac.compare_digest(stored, hashed.encode()):
            return None
        if not Person(_text(key), anon == b"1").may_resume(caller):
            return None
        if isinstance(info, ResponseError):  # no stream yet
            return 0
        return entry_seq(info["last-generated-id"])

    async def _wait_for(self, session_id: str, top: int, last_seq: int) -> int:
        """Wait (bounded) until the stream reaches `last_seq`: the old owner may have sent
        the client its last events a moment before its writer sent them here."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LAST_WRITES_WAIT
        while top < last_seq and (left := deadline - loop.time()) > 0:
            got: Any = await self.client.xread(
                {stream_key(session_id): f"{top}-0"}, block=max(1, int(left * 1000))
            )
            for _, rows in got:
                top = max([top, *(entry_seq(entry_id) for entry_id, _ in rows)])
        return top


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _flag(anonymous: bool) -> str:
    return "1" if anonymous else "0"
