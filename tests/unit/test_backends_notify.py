"""`backend` events reach the sessions waiting on that kind of backend, once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from server.engine.backends.config import StartOptions
from server.engine.backends.health import HealthChange, InstanceHealth
from server.engine.backends.launcher import Launcher, StartFailed
from server.engine.backends.notify import WaitingSessions, backend_reason
from server.engine.errors import (
    BackendBusy,
    BackendError,
    BackendPaused,
    BackendProtocolError,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    ModelNotFound,
)
from server.engine.session import Session, SessionState
from server.protocol import Backend, BackendKind, BackendReason, BackendState, ServerEvent
from tests.scheduler_support import FakeClock


class FakeSession:
    def __init__(self, session_id: str) -> None:
        self.id = session_id
        self.state = SessionState.ATTACHED
        self.sent: list[dict[str, Any]] = []

    def emit(self, message_type: type[ServerEvent], **fields: Any) -> int:
        assert message_type is Backend
        self.sent.append(fields)
        return len(self.sent)


def session(name: str) -> tuple[FakeSession, Session]:
    fake = FakeSession(name)
    return fake, cast(Session, fake)


def change(kind: BackendKind, state: BackendState, eta: float | None = None) -> HealthChange:
    return HealthChange(kind, "gpu1", state, None, eta)


S = BackendState
R = BackendReason


@pytest.mark.parametrize(
    ("state", "cause", "reason"),
    [
        (S.DOWN, BackendUnavailable, R.UNREACHABLE),
        (S.DOWN, None, R.UNREACHABLE),
        (S.UNHEALTHY, BackendTimeout, R.NO_ANSWER),
        (S.UNHEALTHY, BackendBusy, R.NO_ANSWER),
        (S.UNHEALTHY, BackendProtocolError, R.ERROR),
        (S.UNHEALTHY, BackendError, R.ERROR),
        (S.UNHEALTHY, BackendRejected, R.ERROR),
        (S.UNHEALTHY, ModelNotFound, R.ERROR),
        (S.UNHEALTHY, None, R.ERROR),
        (S.UNHEALTHY, BackendPaused, R.PAUSED),
        (S.DOWN, StartFailed, R.START_FAILED),  # a BackendUnavailable, but more precise
        (S.STARTING, None, R.STARTING),
        (S.HEALTHY, None, None),
        (S.HEALTHY, BackendTimeout, None),  # healthy again: nothing to explain
        (S.UNKNOWN, None, None),
    ],
)
def test_every_health_change_maps_to_one_reason(
    state: BackendState, cause: type[BaseException] | None, reason: BackendReason | None
) -> None:
    assert (
        backend_reason(HealthChange(BackendKind.LLM, "gpu1", state, "text", None, cause)) is reason
    )


def test_students_get_the_reason_never_the_backends_own_text() -> None:
    waiting = WaitingSessions()
    fake, fake_session = session("a")
    health = InstanceHealth(BackendKind.COMFYUI, "gpu1", waiting.publish)
    technical = "GET /system_stats: Cannot connect to host 127.0.0.1:19010 ssl:default"
    with waiting.watch(BackendKind.COMFYUI, fake_session):
        health.move(BackendState.DOWN, technical, cause=BackendUnavailable)
    [sent] = fake.sent
    assert sent["reason"] is BackendReason.UNREACHABLE
    assert technical not in repr(sent)
    assert health.message == technical  # kept for the log and /api/status
    assert set(sent) == set(Backend.model_fields) - {"type", "seq"}


def test_only_sessions_waiting_on_that_kind_hear_of_it_and_each_only_once() -> None:
    waiting = WaitingSessions()
    (a, a_session), (b, b_session) = session("a"), session("b")
    with (
        waiting.watch(BackendKind.LLM, a_session),
        waiting.watch(BackendKind.LLM, a_session),
    ):  # two runs of a
        with waiting.watch(BackendKind.COMFYUI, b_session):
            waiting.publish(change(BackendKind.LLM, BackendState.DOWN))
        assert waiting.waiting(BackendKind.COMFYUI) == 0
    assert [m["state"] for m in a.sent] == [BackendState.DOWN]
    assert b.sent == []
    assert waiting.waiting(BackendKind.LLM) == 0


def test_a_session_told_of_trouble_hears_it_is_over_after_its_run_ended() -> None:
    waiting = WaitingSessions()
    (a, a_session), (b, b_session) = session("a"), session("b")
    with waiting.watch(BackendKind.LLM, a_session):
        waiting.publish(change(BackendKind.LLM, BackendState.DOWN))
    with waiting.watch(BackendKind.LLM, b_session):
        pass  # b arrives after the news: down is not replayed to it
    waiting.publish(change(BackendKind.LLM, BackendState.HEALTHY))  # nobody waits any more
    waiting.publish(change(BackendKind.LLM, BackendState.DOWN))
    waiting.publish(change(BackendKind.LLM, BackendState.HEALTHY))
    assert [m["state"] for m in a.sent] == [BackendState.DOWN, BackendState.HEALTHY]
    assert b.sent == []


def test_a_session_that_starts_waiting_during_a_start_learns_the_time_left() -> None:
    clock = FakeClock()
    waiting = WaitingSessions(clock)
    waiting.publish(change(BackendKind.LLM, BackendState.STARTING, eta=30.0))
    clock.advance(12)
    late, late_session = session("late")
    with waiting.watch(BackendKind.LLM, late_session):
        pass
    assert [(m["state"], m["eta"]) for m in late.sent] == [(BackendState.STARTING, 18.0)]
    waiting.publish(
        change(BackendKind.LLM, BackendState.HEALTHY)
    )  # it was told "starting": the end too
    with waiting.watch(BackendKind.LLM, late_session):
        pass
    assert [m["state"] for m in late.sent] == [BackendState.STARTING, BackendState.HEALTHY]


def test_restarts_are_rate_limited_and_the_eta_learns_from_the_last_start() -> None:
    clock = FakeClock()
    options = StartOptions(
        start_command=("ollama", "serve"), ready_timeout=60, restart_min_interval=30
    )
    health = InstanceHealth(BackendKind.LLM, "gpu1")

    async def probe() -> None:
        return None

    launcher = Launcher(
        options, health, probe, log_file=Path("x.log"), poll=0.1, stop_timeout=1, clock=clock
    )
    assert launcher.can_start()
    assert launcher.expected_seconds() == 60  # nothing measured: the ready timeout
    launcher.last_launch = clock()
    launcher.last_ready_seconds = 8.0
    clock.advance(10)
    assert launcher.wait_before_next() == 20
    assert not launcher.can_start()
    clock.advance(20)
    assert launcher.can_start()
    assert launcher.expected_seconds() == 8.0


def test_ended_sessions_are_forgotten_during_a_long_outage() -> None:
    waiting = WaitingSessions()
    ended = [session(f"s{i}") for i in range(1100)]
    for fake, fake_session in ended:
        with waiting.watch(BackendKind.LLM, fake_session):
            waiting.publish(change(BackendKind.LLM, BackendState.DOWN))
        fake.state = SessionState.CLOSED
        waiting.publish(change(BackendKind.LLM, BackendState.UNHEALTHY))
        waiting.publish(change(BackendKind.LLM, BackendState.DOWN))
    live, live_session = session("live")
    with waiting.watch(BackendKind.LLM, live_session):
        waiting.publish(change(BackendKind.LLM, BackendState.UNHEALTHY))
    waiting.publish(change(BackendKind.LLM, BackendState.HEALTHY))
    assert live.sent[-1]["state"] is BackendState.HEALTHY
    assert sum(1 for fake, _ in ended if fake.sent[-1]["state"] is BackendState.HEALTHY) < 1024
