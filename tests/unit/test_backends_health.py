"""The health state machine and what a failure says about an instance."""

from __future__ import annotations

import pytest

from server.engine.backends.config import LifecycleSettings
from server.engine.backends.health import (
    ALLOWED,
    HealthChange,
    InstanceHealth,
    alive_by_work,
    instance_fault,
    state_after_failure,
    worth_retrying,
)
from server.engine.comfyui.errors import PromptLost
from server.engine.errors import (
    BackendBusy,
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    InvalidState,
    ModelNotFound,
)
from server.engine.llm.errors import BackendAuthFailed, BackendServerError
from server.protocol import BackendKind
from server.protocol import BackendState as S


def err(kind: type[BackendError]) -> BackendError:
    return kind("boom", backend="llm", instance="gpu1")


def test_every_state_is_reachable_from_unknown_but_nothing_returns_to_unknown() -> None:
    assert ALLOWED[S.UNKNOWN] == frozenset(S) - {S.UNKNOWN}
    assert all(S.UNKNOWN not in targets for targets in ALLOWED.values())


def test_changes_are_published_once_with_their_message() -> None:
    seen: list[HealthChange] = []
    health = InstanceHealth(BackendKind.LLM, "gpu1", seen.append, clock=lambda: 5.0)
    assert health.move(S.DOWN, "cannot connect")
    assert not health.move(S.DOWN, "cannot connect again")  # no change, no event
    assert health.move(S.STARTING, "starting", eta=30.0)
    assert health.move(S.HEALTHY)
    assert [(c.state, c.message, c.eta) for c in seen] == [
        (S.DOWN, "cannot connect", None),
        (S.STARTING, "starting", 30.0),
        (S.HEALTHY, None, None),
    ]
    assert (health.changes, health.since) == (3, 5.0)


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((S.HEALTHY,), S.STARTING),  # nobody launches a server that answers
        ((S.DOWN, S.STARTING), S.UNHEALTHY),  # a start ends healthy or down
        ((S.HEALTHY,), S.UNKNOWN),
    ],
)
def test_illegal_transitions_raise(path: tuple[S, ...], illegal: S) -> None:
    health = InstanceHealth(BackendKind.COMFYUI, "a")
    for state in path:
        health.move(state)
    with pytest.raises(InvalidState):
        health.move(illegal)
    assert health.state is path[-1]


def test_unreachable_means_down_anything_else_unhealthy() -> None:
    assert state_after_failure(err(BackendUnavailable)) is S.DOWN
    assert state_after_failure(err(PromptLost)) is S.UNHEALTHY
    assert state_after_failure(err(BackendTimeout)) is S.UNHEALTHY
    assert state_after_failure(err(BackendServerError)) is S.UNHEALTHY


def test_crashes_and_cut_streams_are_retried_elsewhere_but_bad_requests_are_not() -> None:
    for kind in (
        BackendUnavailable,
        BackendTimeout,
        BackendBusy,
        BackendProtocolError,
        BackendServerError,
        PromptLost,
        BackendError,  # an error reported mid-stream
    ):
        assert worth_retrying(err(kind)), kind
    for kind in (ModelNotFound, BackendRejected, BackendAuthFailed):
        assert not worth_retrying(err(kind)), kind
        assert not instance_fault(err(kind)), kind
    assert instance_fault(err(BackendProtocolError))


def test_a_token_within_the_window_vouches_for_a_slow_instance() -> None:
    assert alive_by_work(since_delivery=0.5, window=15.0)
    assert alive_by_work(since_delivery=15.0, window=15.0)
    assert not alive_by_work(since_delivery=15.1, window=15.0)  # quiet too long: hung
    assert not alive_by_work(since_delivery=None, window=15.0)  # never delivered anything


def test_the_proof_of_life_window_is_one_check_interval_and_its_timeout() -> None:
    assert LifecycleSettings(health_interval=10, health_timeout=5).proof_of_life == 15.0


def test_each_state_entered_is_counted() -> None:
    health = InstanceHealth(BackendKind.LLM, "gpu1")
    for state in (S.HEALTHY, S.UNHEALTHY, S.HEALTHY, S.HEALTHY, S.DOWN):
        health.move(state)
    assert health.entered == {S.HEALTHY: 2, S.UNHEALTHY: 1, S.DOWN: 1}
