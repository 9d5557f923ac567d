"""The wall's feed: each wall gets every event of its class in order, a wall that falls behind
is dropped (never waited for), and revoking a link ends the feeds it opened."""

from __future__ import annotations

from server.engine.classroom.wall import WallEvent, WallFeed

PICTURE = WallEvent("picture", "r-aaaa1", {"run": "r-aaaa1"})
HIDDEN = WallEvent("hidden", "r-aaaa1")


async def test_a_wall_gets_its_classs_events_in_order_and_no_other_classs() -> None:
    feed = WallFeed()
    wall = feed.subscribe(1)
    assert wall is not None
    feed.publish(1, PICTURE)
    feed.publish(2, WallEvent("picture", "r-bbbb2"))
    feed.publish(1, HIDDEN)
    assert [await wall.next(1.0), await wall.next(1.0)] == [PICTURE, HIDDEN]
    assert await wall.next(0.0) is None  # nothing else: time for a heartbeat
    assert wall.ended is None


async def test_a_wall_that_falls_behind_is_dropped_and_the_others_still_get_everything() -> None:
    feed = WallFeed(queue_limit=2)
    slow, reading = feed.subscribe(1), feed.subscribe(1)
    assert slow is not None
    assert reading is not None
    got = []
    for number in range(3):
        feed.publish(1, WallEvent("picture", f"r-aaaa{number}"))
        event = await reading.next(1.0)
        assert event is not None
        got.append(event.run)
    assert slow.ended == "slow"
    assert await slow.next(1.0) is None  # what it had queued is dropped too
    assert got == ["r-aaaa0", "r-aaaa1", "r-aaaa2"]
    assert reading.ended is None
    assert feed.subscribers(1) == 1


async def test_revoking_a_link_ends_only_the_feeds_it_opened() -> None:
    feed = WallFeed()
    by_link, by_other_link, by_teacher = (
        feed.subscribe(1, 7),
        feed.subscribe(1, 8),
        feed.subscribe(1),
    )
    assert by_link is not None
    assert by_other_link is not None
    assert by_teacher is not None
    feed.publish(1, PICTURE)
    assert feed.close_link(7) == 1
    assert by_link.ended == "revoked"
    assert await by_link.next(1.0) is None
    assert await by_other_link.next(1.0) == PICTURE
    assert await by_teacher.next(1.0) == PICTURE
    assert feed.subscribers(1) == 2


def test_a_class_has_at_most_so_many_walls_open() -> None:
    feed = WallFeed(max_per_class=2)
    first, second = feed.subscribe(1), feed.subscribe(1)
    assert first is not None
    assert second is not None
    assert feed.subscribe(1) is None
    assert feed.subscribe(2) is not None  # another class is not affected
    feed.unsubscribe(first)
    assert feed.subscribe(1) is not None
