"""The embedded back end: everything in this process, as Atelier always was.

The default (`state = "embedded"`): a session's log is the plain in-process `EventLog`, so the
token path costs nothing more than before. The store is a dict, so that instances in one
process (the contract tests' two registries) can share it exactly as processes share Redis.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from server.engine.eventlog import EventLog
from server.engine.ratelimit import TokenBucket
from server.engine.state._interface import (
    Adopted,
    AdoptLimited,
    FencedHook,
    LogBounds,
    Person,
    Resumes,
    secret_hash,
    seeded_log,
)


@dataclass(slots=True)
class _Record:
    secret: str
    person: Person
    owner: str
    log: EventLog
    moves: TokenBucket | None = None  # its adoptions: `Resumes`


class EmbeddedStore:
    """The sessions of every instance in this process (one, outside tests)."""

    def __init__(self) -> None:
        self.records: dict[str, _Record] = {}

    def view(self, instance: str) -> EmbeddedState:
        return EmbeddedState(self, instance)


class EmbeddedState:
    """One instance's view of an `EmbeddedStore`."""

    def __init__(self, store: EmbeddedStore | None = None, instance: str = "embedded") -> None:
        self.store = store or EmbeddedStore()
        self.instance = instance
        self._handing_over = False

    def create(self, session_id: str, secret: str, person: Person, bounds: LogBounds) -> EventLog:
        log = EventLog(bounds.entries, bounds.bytes)
        self.store.records[session_id] = _Record(secret_hash(secret), person, self.instance, log)
        return log

    async def adopt(
        self,
        session_id: str,
        secret: str,
        caller: Person,
        last_seq: int,
        bounds: LogBounds,
        resumes: Resumes,
    ) -> Adopted | None:
        record = self.store.records.get(session_id)
        if record is None or not hmac.compare_digest(record.secret, secret_hash(secret)):
            return None
        if not record.person.may_resume(caller):
            return None
        now = time.monotonic()
        if record.moves is None:
            record.moves = TokenBucket(resumes.per_minute / 60, resumes.burst, now)
        if not record.moves.take(now):
            raise AdoptLimited
        old = record.log
        first = old.last_seq - len(old) + 1
        entries = zip(range(first, old.last_seq + 1), _kept(old), strict=True)
        kept = list(entries)
        record.log = seeded_log(bounds, kept, old.last_seq)
        record.owner = self.instance
        return Adopted(record.log, [data for _, data in kept])

    async def owns(self, session_id: str) -> bool:
        record = self.store.records.get(session_id)
        return record is None or record.owner == self.instance

    def attached(self, session_id: str) -> None:
        """Nothing expires here: the registry's own timer ends a detached session."""

    def detached(self, session_id: str, grace: float) -> None:
        """As `attached`."""

    def hand_over(self, grace: float) -> None:
        """Keep closed sessions for the store's other instances (outside tests there are
        none: the store ends with this process)."""
        self._handing_over = True

    def closed(self, session_id: str) -> None:
        record = self.store.records.get(session_id)
        if record is not None and record.owner == self.instance and not self._handing_over:
            del self.store.records[session_id]

    def on_fenced(self, hook: FencedHook) -> None:
        """One process: a session is never taken from under a live instance outside tests."""

    def counters(self) -> dict[str, int]:
        """Nothing leaves the process: no store to count trips to."""
        return {}

    async def flush(self) -> None:
        """Every write is done when its call returns."""

    async def aclose(self) -> None:
        mine = [sid for sid, r in self.store.records.items() if r.owner == self.instance]
        for session_id in mine:
            del self.store.records[session_id]


def _kept(log: EventLog) -> list[bytes]:
    return log.since(log.last_seq - len(log)) or []
