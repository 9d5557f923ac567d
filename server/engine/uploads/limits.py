"""The bounds an upload is counted against when it is reserved, before its body is read: the
person's (held at once, per minute), a guest's address's, and the server's (held at once,
bodies being read at once). Pure: the store passes its uploads and the clock."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from server.engine.run_record import RecordedOwner
from server.engine.uploads.bounds import UploadBounds

_WINDOW = 60.0  # seconds of `per_minute`


class UploadLimit(Exception):
    """A bound says no: the person's (`person`, `rate`), their address's (`address`) or the
    server's (`server`); `retry_after` when waiting helps."""

    def __init__(self, scope: str, retry_after: float | None = None) -> None:
        super().__init__(scope)
        self.scope, self.retry_after = scope, retry_after


@dataclass(slots=True)
class Upload:
    """One upload in the store's index: reserved (no size yet), pending, claimed or kept."""

    id: str
    owner: RecordedOwner
    path: Path
    #: Whom it counts with: its owner, or a guest's address (all its guests together).
    group: str = ""
    width: int = 0
    height: int = 0
    created: float = 0.0
    #: The run that claimed it; None: pending.
    run: str | None = None
    #: Moved into its completed run's folder.
    kept: bool = False


class UploadLimits:
    """The bounds, and when each person's uploads of the last minute began."""

    def __init__(self, bounds: UploadBounds) -> None:
        self.bounds = bounds
        self._sent: dict[str, deque[float]] = {}

    def check(self, held: Collection[Upload], key: str, group: str, now: float) -> None:
        """Raise UploadLimit unless one more upload of `key` (counted with `group`) fits
        beside `held` (every reserved, pending and claimed upload); counts it this minute."""
        bounds = self.bounds
        if sum(1 for u in held if u.owner.key == key) >= bounds.per_person:
            raise UploadLimit("person")
        if group != key and sum(1 for u in held if u.group == group) >= bounds.per_address:
            raise UploadLimit("address", 30.0)
        self._take(key, now)
        if len(held) >= bounds.held:
            raise UploadLimit("server", 30.0)
        if sum(1 for u in held if not u.width) >= bounds.receiving:
            raise UploadLimit("server", 5.0)

    def _take(self, key: str, now: float) -> None:
        if len(self._sent) > 4 * self.bounds.held:  # forget people idle for a minute
            self._sent = {k: q for k, q in self._sent.items() if q and q[-1] > now - _WINDOW}
        stamps = self._sent.setdefault(key, deque())
        while stamps and stamps[0] <= now - _WINDOW:
            stamps.popleft()
        if len(stamps) >= self.bounds.per_minute:
            raise UploadLimit("rate", stamps[0] + _WINDOW - now)
        stamps.append(now)
