"""Property: the pure slot queue never leaks or double-grants a slot and serves in key order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from server.engine.scheduler._queueing import RunPriority, SlotQueue, WaitKey

Op = tuple[str, int]
ops = st.lists(
    st.tuples(st.sampled_from(["request", "release", "remove"]), st.integers(0, 50)),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(slots=st.integers(1, 4), script=ops)
def test_slot_queue_keeps_its_invariants_under_any_interleaving(
    slots: int, script: list[Op]
) -> None:
    queue: SlotQueue[WaitKey] = SlotQueue(slots)
    holders: list[WaitKey] = []
    waiting: set[WaitKey] = set()
    for lease, (op, n) in enumerate(script):
        if op == "request":
            key = WaitKey(0, RunPriority(n, 0, n), lease)
            if queue.request(key, key):
                assert not waiting, "granted past someone waiting"
                holders.append(key)
            else:
                waiting.add(key)
        elif op == "release" and holders:
            holders.pop(n % len(holders))
            granted = queue.release()
            if waiting:
                assert granted == min(waiting), "order not kept"
                waiting.discard(granted)
                holders.append(granted)
            else:
                assert granted is None
        elif op == "remove" and waiting:
            victim = sorted(waiting)[n % len(waiting)]
            assert queue.remove(victim)
            waiting.discard(victim)
        assert queue.held == len(holders) <= slots
        assert queue.waiting == len(waiting)
        assert not waiting or queue.held == slots, "a slot idles while someone waits"
        assert list(queue) == sorted(waiting)
    for _ in range(len(holders) + len(waiting)):
        queue.release()
    assert queue.held == 0
    assert queue.waiting == 0
