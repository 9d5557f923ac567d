"""`backend` events reach the sessions waiting on that kind of backend, once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from server.engine.backends.config import StartOptions
from server.engine.backends.health import HealthChange, InstanceHealth
from server.engine.backends.launcher import Launcher
from server.engine.backends.notify import WaitingSessions
from server.engine.session import Session
from server.protocol import Backend, BackendState, ServerEvent
from tests.scheduler_support import FakeClock


class FakeSession:
    def __init__(self, session_id: str) -> None:
        self.id = session_id
        self.sent: list[dict[str, Any]] = []

    def emit(self, message_type: type[ServerEvent], **fields: Any) -> int:
        assert message_type is Backend
        self.sent.append(fields)
        return len(self.sent)


def session(name: str) -> tuple[FakeSession, Session]:
    fake = FakeSession(name)
    return fake, cast(Session, fake)


def change(kind: str, state: BackendState, eta: float | None = None) -> HealthChange:
    return HealthChange(kind, "gpu1", state, None, eta)


def test_only_sessions_waiting_on_that_kind_hear_of_it_and_each_only_once() -> None:
    waiting = WaitingSessions()
    (a, a_session), (b, b_session) = session("a"), session("b")
    with waiting.watch("llm", a_session), waiting.watch("llm", a_session):  # two runs of a
        with waiting.watch("comfyui", b_session):
            waiting.publish(change("llm", BackendState.DOWN))
        assert waiting.waiting("comfyui") == 0
    waiting.publish(change("llm", BackendState.HEALTHY))  # nobody waits any more
    assert [m["state"] for m in a.sent] == [BackendState.DOWN]
    assert b.sent == []
    assert waiting.waiting("llm") == 0


def test_a_session_that_starts_waiting_during_a_start_learns_the_time_left() -> None:
    clock = FakeClock()
    waiting = WaitingSessions(clock)
    waiting.publish(change("llm", BackendState.STARTING, eta=30.0))
    clock.advance(12)
    late, late_session = session("late")
    with waiting.watch("llm", late_session):
        pass
    assert [(m["state"], m["eta"]) for m in late.sent] == [(BackendState.STARTING, 18.0)]
    waiting.publish(change("llm", BackendState.HEALTHY))
    with waiting.watch("llm", late_session):
        pass
    assert len(late.sent) == 1  # healthy is not news to someone who just arrived


def test_restarts_are_rate_limited_and_the_eta_learns_from_the_last_start() -> None:
    clock = FakeClock()
    options = StartOptions(
        start_command=("ollama", "serve"), ready_timeout=60, restart_min_interval=30
    )
    health = InstanceHealth("llm", "gpu1")

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
