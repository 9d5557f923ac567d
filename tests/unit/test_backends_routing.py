"""Choosing an instance: usable ones only, what the work needs, then the least load."""

from __future__ import annotations

import pytest

from server.engine.backends.config import BackendConfigs, ComfyUIBackendConfig, LLMBackendConfig
from server.engine.backends.kinds import COMFYUI, LLM
from server.engine.backends.registry import Backends, LoadOf
from server.engine.backends.routing import ImageNeeds, models_in_graph
from server.engine.comfyui.results import Capabilities
from server.engine.errors import BackendUnavailable, ModelNotFound
from server.protocol import BackendKind, BackendState


def llm_backends(*specs: tuple[str, tuple[str, ...]]) -> Backends:
    configs = [LLMBackendConfig(name=name, models=models) for name, models in specs]
    backends = Backends({BackendKind.LLM: configs})
    for instance in backends.instances(LLM):
        instance.health.move(BackendState.HEALTHY)
    return backends


def loads(**by_name: float) -> LoadOf:
    return lambda pool: by_name.get(pool.split(":", 1)[1], 0.0)


def caps(checkpoints: tuple[str, ...] = (), loras: tuple[str, ...] = ()) -> Capabilities:
    return Capabilities(frozenset(), checkpoints, (), loras, ())


def test_the_least_loaded_instance_with_the_model_wins() -> None:
    backends = llm_backends(("a", ("llama3.2",)), ("b", ("llama3.2", "qwen3:4b")))
    a, b = backends.instances(LLM)
    assert backends.choose(LLM, "llama3.2", loads(a=0.5, b=0.0)) is b
    assert backends.choose(LLM, "llama3.2", loads(a=0.0, b=0.5)) is a
    assert backends.choose(LLM, "llama3.2:latest", loads()) is a  # ties: configured order
    assert backends.choose(LLM, "qwen3:4b", loads(a=0.0, b=9.0)) is b


def test_instances_that_are_down_or_behind_an_open_breaker_get_no_work() -> None:
    backends = llm_backends(("a", ()), ("b", ()))
    a, b = backends.instances(LLM)
    a.health.move(BackendState.DOWN, "cannot connect")
    assert backends.choose(LLM, "llama3.2", loads(b=5.0)) is b
    for _ in range(3):
        b.breaker.failed()
    assert backends.choose(LLM, "llama3.2", loads()) is None


def test_a_model_nobody_serves_and_no_servers_at_all_are_told_apart() -> None:
    with pytest.raises(ModelNotFound, match="mistral"):
        llm_backends(("a", ("llama3.2",))).candidates(LLM, "mistral")
    with pytest.raises(BackendUnavailable, match="no LLM server is configured"):
        Backends({}).candidates(LLM, "llama3.2")
    # Excluding the only server that has it leaves no candidate, which is not "not found".
    only_a = llm_backends(("a", ("llama3.2",)))
    assert only_a.candidates(LLM, "llama3.2", frozenset({"a"})) == []


def test_image_work_needs_the_model_file_and_prefers_the_loras() -> None:
    configs = [ComfyUIBackendConfig(name=n) for n in ("plain", "styled", "other", "unknown")]
    backends = Backends({BackendKind.COMFYUI: configs})
    plain, styled, other, unknown = backends.instances(COMFYUI)
    plain.capabilities = caps(("sdxl.safetensors",))
    styled.capabilities = caps(("sdxl.safetensors",), ("bauhaus.safetensors",))
    other.capabilities = caps(("sd35.safetensors",), ("bauhaus.safetensors",))
    for instance in backends.instances(COMFYUI):
        instance.health.move(BackendState.HEALTHY)
    needs = ImageNeeds(frozenset({"sdxl.safetensors"}), frozenset({"bauhaus.safetensors"}))

    # styled has the LoRA: it wins although it is busier; other lacks the checkpoint.
    chosen = backends.choose(COMFYUI, needs, loads(plain=0.0, styled=3.0, unknown=5.0))
    assert chosen is styled
    # Not asked yet (its capabilities unknown) counts as having the model files, not the LoRAs.
    models_only = ImageNeeds(needs.models)
    assert backends.choose(COMFYUI, models_only, loads(styled=9.0), frozenset({"plain"})) is unknown
    assert backends.choose(COMFYUI, needs, loads(styled=9.0), frozenset({"plain"})) is styled
    assert [i.name for i in backends.candidates(COMFYUI, needs)] == ["plain", "styled", "unknown"]
    unknown.capabilities = caps()
    with pytest.raises(ModelNotFound, match="sd3"):
        backends.candidates(COMFYUI, ImageNeeds(frozenset({"sd3.safetensors"})))


def test_models_in_graph_finds_checkpoint_and_unet_loaders() -> None:
    graph = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}},
        "2": {"class_type": "UNETLoader", "inputs": {"unet_name": "sd35.safetensors"}},
        "3": {"class_type": "KSampler", "inputs": {"model": ["1", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ["9", 0]}},
    }
    assert models_in_graph(graph) == {"sdxl.safetensors", "sd35.safetensors"}


def test_ready_when_each_kind_has_an_instance_that_is_healthy_or_startable() -> None:
    startable = LLMBackendConfig(name="lazy", start_command=("ollama", "serve"))
    configs: BackendConfigs = {
        BackendKind.LLM: [startable],
        BackendKind.COMFYUI: [ComfyUIBackendConfig(name="img")],
    }
    backends = Backends(configs)
    backends.instances(LLM)[0].health.move(BackendState.DOWN)
    backends.instances(COMFYUI)[0].health.move(BackendState.DOWN)
    assert backends.ready() == {"llm": True, "comfyui": False}
