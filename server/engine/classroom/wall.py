"""The wall's live feed: what a class's projector hears as its pictures are made or hidden.

`ClassHub.publish` hands every `WallEvent` of a class to `WallFeed.publish`, which only appends
to each subscriber's bounded queue: it never awaits, so a wall (a browser on a projector, over
a slow network) can never slow a run or another wall. A subscriber whose queue is full is
dropped at once (its feed ends; the page reconnects and reloads the pictures), the same rule as
a student socket's bounded outbox (server/engine/connection.py).

A subscriber opened through a wall link remembers the link, so revoking the link closes every
feed it opened at once (`close_link`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import structlog

from server.engine.catalog import Catalog
from server.engine.people.rows import PictureRow
from server.engine.records import picture_row
from server.engine.run_record import RunRecord
from server.protocol import RunStatus
from server.protocol._http_console import WallPicture

log = structlog.get_logger(__name__)

WallEventKind = Literal["picture", "hidden", "shown", "flagged"]

#: Events one wall may have waiting before it is dropped: a wall reads within milliseconds;
#: 64 is a whole class's burst of pictures with room to spare.
SUBSCRIBER_QUEUE = 64
#: Walls open on one class at once (projector, a second screen, a reloaded tab, ...).
MAX_SUBSCRIBERS_PER_CLASS = 16


@dataclass(frozen=True)
class WallEvent:
    """One change the wall shows: a picture made, hidden, shown again or flagged.

    `picture` is set for "picture" only: the wall item's public fields (run, nickname,
    perspective, prompt, files, created, group), never a teacher-only reason."""

    kind: WallEventKind
    run: str
    picture: dict[str, Any] | None = None


class Publisher(Protocol):
    """Where the pipeline's hook hands a wall event (`ClassHub.publish`)."""

    def publish(self, class_id: int, event: WallEvent) -> None: ...


def on_wall(row: PictureRow) -> bool:
    """Whether a picture may be on the wall: its run completed (every check passed), it has
    files, and its teacher has not hidden it."""
    return row.status == RunStatus.COMPLETED.value and bool(row.files) and not row.hidden


def wall_item(row: PictureRow, nickname: str, catalog: Catalog | None) -> WallPicture:
    """The wall's view of a picture: the perspective by its names in both languages (the
    wall picks its own), never a teacher-only field."""
    config = catalog.interceptions.get(row.perspective) if catalog else None
    names = {"en": config.name.en, "de": config.name.de} if config else {}
    return WallPicture(
        run=row.run_id,
        nickname=nickname,
        perspective=row.perspective,
        perspective_name=names or {"en": row.perspective, "de": row.perspective},
        icon=config.icon if config else "",
        color=config.color if config else "#777777",
        prompt=row.prompt,
        created=row.created,
        files=[f"/media/{row.run_id}/{name}" for name in row.files],
        group=row.group,
    )


def publish_picture(hub: Publisher, catalog: Catalog | None, record: RunRecord) -> None:
    """The pipeline's hook once a run's record and index row are written: a class member's
    completed run with pictures goes on the class's wall."""
    row, owner = picture_row(record), record.owner
    if row is None or row.class_id is None or owner is None:
        return
    if record.status is not RunStatus.COMPLETED or not on_wall(row):
        return
    item = wall_item(row, owner.nickname or "", catalog)
    hub.publish(row.class_id, WallEvent("picture", row.run_id, item.model_dump(mode="json")))


class WallSubscriber:
    """One open wall feed: a bounded queue read by one task (the HTTP stream)."""

    def __init__(self, class_id: int, link: int | None, limit: int) -> None:
        self.class_id = class_id
        #: The wall link it was opened with; None: the class's teacher opened it.
        self.link = link
        self._limit = limit
        self._queue: deque[WallEvent] = deque()
        self._wake = asyncio.Event()
        #: Why it ended ("slow", "revoked", "closed"); None while open.
        self.ended: str | None = None

    def offer(self, event: WallEvent) -> bool:
        """Queue `event`; False (and the subscriber ends) when its queue is full."""
        if self.ended is not None:
            return False
        if len(self._queue) >= self._limit:
            self.end("slow")
            return False
        self._queue.append(event)
        self._wake.set()
        return True

    def end(self, why: str) -> None:
        """End the feed at once: what is still queued is dropped too, so a revoked link
        shows nothing more."""
        if self.ended is None:
            self.ended = why
            self._queue.clear()
            self._wake.set()

    async def next(self, timeout: float) -> WallEvent | None:
        """The next event, or None after `timeout` seconds without one (time for a
        heartbeat) or when the feed has ended (check `ended`)."""
        if not self._queue and self.ended is None:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                return None
        if self.ended is not None or not self._queue:
            return None
        return self._queue.popleft()


class WallFeed:
    """Every open wall, by class. Plain calls from the event loop; never awaits."""

    def __init__(
        self,
        queue_limit: int = SUBSCRIBER_QUEUE,
        max_per_class: int = MAX_SUBSCRIBERS_PER_CLASS,
    ) -> None:
        self._queue_limit = queue_limit
        self._max_per_class = max_per_class
        self._subscribers: dict[int, set[WallSubscriber]] = {}

    def subscribe(self, class_id: int, link: int | None = None) -> WallSubscriber | None:
        """A new feed for the class's wall; None when the class has its most walls open."""
        subscribers = self._subscribers.setdefault(class_id, set())
        if len(subscribers) >= self._max_per_class:
            return None
        subscriber = WallSubscriber(class_id, link, self._queue_limit)
        subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: WallSubscriber) -> None:
        subscriber.end("closed")
        subscribers = self._subscribers.get(subscriber.class_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[subscriber.class_id]

    def publish(self, class_id: int, event: WallEvent) -> None:
        """Hand `event` to every wall of the class; a wall that has fallen behind is dropped."""
        for subscriber in list(self._subscribers.get(class_id, ())):
            if not subscriber.offer(event):
                log.info("wall_subscriber_dropped", class_id=class_id, why=subscriber.ended)
                self.unsubscribe(subscriber)

    def close_link(self, link: int) -> int:
        """End every feed opened with the wall link `link` (it was revoked); how many."""
        closed = [s for subs in self._subscribers.values() for s in subs if s.link == link]
        for subscriber in closed:
            subscriber.end("revoked")
            self.unsubscribe(subscriber)
        return len(closed)

    def subscribers(self, class_id: int) -> int:
        """How many walls of the class are open (for tests and the ops view)."""
        return len(self._subscribers.get(class_id, ()))
