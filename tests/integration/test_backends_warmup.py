"""Warm-up: each healthy LLM instance is asked to load the pipeline's models it serves."""

from __future__ import annotations

from collections.abc import Sequence

from server.engine.backends.config import LifecycleSettings, LLMBackendConfig
from server.engine.backends.registry import Backends
from server.engine.backends.warmup import warm_up_request
from server.engine.classroom.readiness import REWARM_SECONDS, WarmProgress, WarmUp
from server.engine.llm import Dialect
from server.harness.llm_sim.common import SimSettings
from server.harness.llm_sim.ollama import OllamaSimulator
from server.protocol import BackendKind
from tests.pipeline_support import until


def test_ollama_loads_a_model_on_a_chat_without_messages() -> None:
    assert warm_up_request(Dialect.OLLAMA, "llama3.2").messages == ()
    openai = warm_up_request(Dialect.OPENAI, "llama3.2")
    assert (len(openai.messages), openai.max_tokens) == (1, 1)


async def test_warm_up_loads_each_served_model_once_without_delaying_start() -> None:
    asked: list[Sequence[dict[str, str]]] = []

    def responder(messages: Sequence[dict[str, str]]) -> str:
        asked.append(list(messages))
        return ""

    sim = OllamaSimulator(SimSettings(tokens_per_second=0), responder)
    url = await sim.start("127.0.0.1", 0)
    backends = Backends(
        {BackendKind.LLM: [LLMBackendConfig(name="gpu1", url=url, models=("llama3.2",))]},
        LifecycleSettings(health_interval=60),
    )
    now = [1000.0]  # the warm-up's clock, moved by hand
    models = ["llama3.2", "qwen3:4b", "llama3.2"]
    warm_up = WarmUp(backends, models, timeout=5, clock=lambda: now[0])
    try:
        await backends.start()
        assert warm_up.start().state == "running"  # in the background: start has returned
        await until(lambda: warm_up.progress().state == "done", timeout=5)
        assert asked == [[]]  # qwen3 is not served here, llama3.2 asked once
        assert sim.counters.requests == 1
        assert warm_up.progress() == WarmProgress("done", 1, 1, 0)
        assert warm_up.start() == WarmProgress("done", 1, 1, 0)  # a script's: answered only
        assert sim.counters.requests == 1
        now[0] += REWARM_SECONDS  # a minute on, the teacher's click warms again
        assert warm_up.start().state == "running"
        await until(lambda: warm_up.progress().state == "done", timeout=5)
        assert sim.counters.requests == 2
    finally:
        await warm_up.close()
        await backends.close()
        await sim.stop()
