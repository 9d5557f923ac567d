"""The pure parts of watching a ComfyUI instance: its last sign of life, the watchdog's
verdict, and the bounded list of prompts to withdraw."""

from __future__ import annotations

from server.engine.comfyui.liveness import Liveness, Verdict, verdict
from server.engine.comfyui.withdrawals import Withdrawals


def test_only_a_question_left_unanswered_counts_against_the_instance() -> None:
    now = [100.0]
    liveness = Liveness(lambda: now[0])
    now[0] = 160.0
    assert (liveness.silence(), liveness.unanswered()) == (60.0, 0.0)  # idle, not silent
    liveness.asked()
    now[0] = 161.0
    liveness.asked()  # the oldest question counts
    now[0] = 163.0
    assert (liveness.silence(), liveness.unanswered()) == (63.0, 3.0)
    liveness.heard()
    now[0] = 163.5
    assert (liveness.silence(), liveness.unanswered()) == (0.5, 0.0)


def test_a_quiet_instance_is_probed_and_one_that_leaves_a_question_unanswered_fails() -> None:
    now = [0.0]
    liveness = Liveness(lambda: now[0])

    def judge(at: float) -> Verdict:
        now[0] = at
        return verdict(liveness, probe_after=1.0, fail_after=120.0)

    assert judge(0.2) is Verdict.WAIT
    assert judge(1.0) is Verdict.PROBE
    liveness.asked()  # the probe
    assert judge(121.0) is Verdict.PROBE
    assert judge(121.1) is Verdict.FAIL
    liveness.heard()
    assert judge(121.2) is Verdict.WAIT


def test_the_withdraw_list_keeps_order_ignores_repeats_and_drops_the_oldest() -> None:
    withdrawals = Withdrawals("img", limit=2)
    withdrawals.add("a", "cancel not delivered")
    withdrawals.add("a", "again")
    withdrawals.add("b", "instance silent")
    assert withdrawals.pending() == ["a", "b"]
    assert withdrawals.added.is_set()
    withdrawals.add("c", "instance silent")
    assert withdrawals.pending() == ["b", "c"]
    assert withdrawals.dropped == 1
    withdrawals.done("b")
    withdrawals.done("c")
    assert (len(withdrawals), withdrawals.withdrawn) == (0, 2)
    assert not withdrawals.added.is_set()
