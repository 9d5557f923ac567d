"""Readiness without a loop: a kind of backend is as ready as its readiest instance, and the
models it lists are the pipeline's that it serves."""

from __future__ import annotations

import pytest

from server.engine.backends.config import LLMBackendConfig
from server.engine.backends.kinds import LLM
from server.engine.backends.registry import Backends
from server.engine.classroom.readiness import KindState, WarmUp, kind_state, readiness
from server.protocol import BackendKind, BackendState

S = BackendState


def llm_backends(*states: BackendState, models: tuple[str, ...] = ()) -> Backends:
    configs = [
        LLMBackendConfig(name=f"gpu{n}", url="http://127.0.0.1:9", models=models)
        for n in range(len(states))
    ]
    backends = Backends({BackendKind.LLM: configs})
    for instance, state in zip(backends.instances(LLM), states, strict=True):
        instance.health.state = state  # as its checks would have left it
    return backends


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((), "missing"),
        ((S.DOWN, S.HEALTHY), "ready"),
        ((S.DOWN, S.STARTING), "starting"),
        ((S.DOWN, S.UNHEALTHY), "unhealthy"),
        ((S.DOWN, S.UNKNOWN), "unknown"),
        ((S.DOWN, S.DOWN), "down"),
    ],
)
def test_a_kind_is_as_ready_as_its_readiest_instance(
    states: tuple[BackendState, ...], expected: KindState
) -> None:
    instances = llm_backends(*states).instances(LLM)
    assert kind_state(instances) == expected


def test_readiness_lists_the_pipelines_models_a_kind_serves_none_warm_yet() -> None:
    backends = llm_backends(S.HEALTHY, S.DOWN, models=("llama3.2",))
    warm_up = WarmUp(backends, ["llama3.2", "qwen3:4b", "llama3.2"], timeout=1)
    llm, comfyui = readiness(backends, warm_up)
    assert (llm.kind, llm.state, llm.instances, llm.healthy) == (BackendKind.LLM, "ready", 2, 1)
    assert llm.models == [("llama3.2", False)]  # qwen3 is served by none of them
    assert (comfyui.state, comfyui.instances, comfyui.models) == ("missing", 0, None)
    assert warm_up.progress().state == "idle"
