"""Things held at once (connections, pending upgrades), capped per key and in all. Pure.

A key is a client address. `take` refuses beyond either cap; the refusals of one scope (a key,
or all keys together) are one episode, so a caller logs its first refusal and, when the
episode ends, how many followed: a client that opens 1,000 sockets beyond its cap makes two
log lines, not 1,000. An episode ends when its scope has calmed down: held below
`CALM_SHARE` of its cap (a key that holds nothing anymore always has).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: An episode of refusals ends once its scope holds less than this share of its cap: an
#: attacker who closes one socket and opens another stays inside one episode.
CALM_SHARE = 0.9


class Scope(StrEnum):
    """What was full: the key's own cap, or the cap on all keys together."""

    KEY = "address"
    TOTAL = "total"


@dataclass(frozen=True, slots=True)
class Refusal:
    """`take` said no: which cap, and whether this is the first refusal of its episode."""

    scope: Scope
    first: bool


@dataclass(frozen=True, slots=True)
class EpisodeEnd:
    """An episode of refusals is over: its scope, key (None for the total) and count."""

    scope: Scope
    key: str | None
    refused: int


class Tally:
    """Counts held per key, at most `per_key` for one key and `total` for all of them."""

    __slots__ = ("_held", "_refused", "_refused_total", "_total", "per_key", "total")

    def __init__(self, per_key: int, total: int) -> None:
        if per_key < 1 or total < 1:
            raise ValueError("a tally needs caps of at least 1")
        self.per_key = per_key
        self.total = total
        self._held: dict[str, int] = {}
        self._total = 0
        # Refusals per key in an open episode; only keys at their cap have one.
        self._refused: dict[str, int] = {}
        self._refused_total = 0

    def held(self, key: str | None = None) -> int:
        """What `key` holds; without a key, what all keys hold together."""
        return self._total if key is None else self._held.get(key, 0)

    def take(self, key: str | None) -> Refusal | None:
        """Hold one more for `key` (None: for no key, only the total counts), or say which
        cap refuses it."""
        if key is not None and self._held.get(key, 0) >= self.per_key:
            count = self._refused.get(key, 0) + 1
            self._refused[key] = count
            return Refusal(Scope.KEY, first=count == 1)
        if self._total >= self.total:
            self._refused_total += 1
            return Refusal(Scope.TOTAL, first=self._refused_total == 1)
        if key is not None:
            self._held[key] = self._held.get(key, 0) + 1
        self._total += 1
        return None

    def release(self, key: str | None) -> list[EpisodeEnd]:
        """Give one back for `key`; the episodes of refusals this ends, if any."""
        if self._total < 1 or (key is not None and key not in self._held):
            raise ValueError(f"release without take for {key!r}")
        self._total -= 1
        ends = [] if key is None else [self._release_key(key)]
        ends.append(self._end_total())
        return [end for end in ends if end is not None]

    def _release_key(self, key: str) -> EpisodeEnd | None:
        left = self._held[key] - 1
        if left:
            self._held[key] = left
        else:
            del self._held[key]  # keys that hold nothing take no memory
        return self._end_key(key, left)

    def _end_key(self, key: str, left: int) -> EpisodeEnd | None:
        if key not in self._refused or left >= self.per_key * CALM_SHARE:
            return None
        return EpisodeEnd(Scope.KEY, key, self._refused.pop(key))

    def _end_total(self) -> EpisodeEnd | None:
        if not self._refused_total or self._total >= self.total * CALM_SHARE:
            return None
        refused, self._refused_total = self._refused_total, 0
        return EpisodeEnd(Scope.TOTAL, None, refused)
