"""LoRA chain injection: chains, rewiring, model-only graphs, skipped LoRAs, no mutation."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from server.engine.workflows import LoraSpec, inject_loras, load_workflows
from tests.comfyui_support import WORKFLOWS

Graph = dict[str, dict[str, Any]]


def template(name: str) -> Graph:
    return load_workflows(WORKFLOWS)[name].template


def consumers(graph: Graph, source: str, index: int) -> set[tuple[str, str]]:
    return {
        (nid, name)
        for nid, node in graph.items()
        for name, value in node["inputs"].items()
        if value == [source, index]
    }


@pytest.mark.parametrize("count", [1, 2, 3])
def test_checkpoint_graph_gets_a_chain_of_lora_loaders(count: int) -> None:
    base = template("sdxl_base")
    names = [f"l{i}.safetensors" for i in range(count)]
    result = inject_loras(base, [LoraSpec(n, 0.8, 0.6) for n in names], available=names)
    added = [nid for nid in result.graph if nid not in base]
    assert len(added) == count
    assert all(result.graph[n]["class_type"] == "LoraLoader" for n in added)
    assert [result.graph[n]["inputs"]["lora_name"] for n in added] == names
    first = result.graph[added[0]]["inputs"]
    assert (first["model"], first["clip"]) == (["1", 0], ["1", 1])
    for prev, nxt in itertools.pairwise(added):
        assert result.graph[nxt]["inputs"]["model"] == [prev, 0]
        assert result.graph[nxt]["inputs"]["clip"] == [prev, 1]
    end = added[-1]
    assert consumers(result.graph, end, 0) == {("5", "model")}
    assert consumers(result.graph, end, 1) == {("2", "clip"), ("3", "clip")}
    assert consumers(result.graph, "1", 0) == {(added[0], "model")}
    assert consumers(result.graph, "1", 1) == {(added[0], "clip")}
    assert consumers(result.graph, "1", 2) == {("6", "vae")}  # the VAE is not touched
    assert result.applied == tuple(names)
    assert result.warnings == ()


def test_separate_clip_loader_graph_chains_model_and_clip_from_their_own_loaders() -> None:
    base = template("sd35_large")
    result = inject_loras(
        base,
        [LoraSpec("a.safetensors"), LoraSpec("b.safetensors")],
        available={"a.safetensors", "b.safetensors"},
    )
    a, b = (nid for nid in result.graph if nid not in base)
    assert result.graph[a]["inputs"]["model"] == ["1", 0]
    assert result.graph[a]["inputs"]["clip"] == ["2", 0]
    assert consumers(result.graph, b, 0) == {("4", "model")}
    assert consumers(result.graph, b, 1) == {("5", "clip"), ("6", "clip")}


def test_graph_without_clip_gets_model_only_loras() -> None:
    base: Graph = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "u", "weight_dtype": "default"}},
        "2": {"class_type": "ModelSamplingSD3", "inputs": {"model": ["1", 0], "shift": 3.0}},
        "3": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "seed": 1}},
    }
    result = inject_loras(
        base, [LoraSpec("x"), LoraSpec("y"), LoraSpec("z")], available={"x", "y", "z"}
    )
    x, y, z = (nid for nid in result.graph if nid not in base)
    assert {result.graph[n]["class_type"] for n in (x, y, z)} == {"LoraLoaderModelOnly"}
    assert "clip" not in result.graph[x]["inputs"]
    assert result.graph[y]["inputs"]["model"] == [x, 0]
    assert consumers(result.graph, z, 0) == {("2", "model"), ("3", "model")}


def test_template_is_never_mutated_and_ids_are_fresh() -> None:
    base = template("sdxl_base")
    before = copy.deepcopy(base)
    result = inject_loras(base, [LoraSpec("a"), LoraSpec("b")], available={"a", "b"})
    assert base == before
    assert set(result.graph) - set(base) == {"8", "9"}
    result.graph["2"]["inputs"]["text"] = "changed"
    assert base["2"]["inputs"]["text"] == before["2"]["inputs"]["text"]


def test_loras_the_instance_lacks_are_skipped_with_a_warning() -> None:
    base = template("sdxl_base")
    result = inject_loras(base, [LoraSpec("have"), LoraSpec("missing")], available={"have"})
    assert result.applied == ("have",)
    assert len(result.warnings) == 1
    assert "missing" in result.warnings[0]
    none = inject_loras(base, [LoraSpec("missing")], available=set())
    assert none.graph == base
    assert none.applied == ()
    assert none.warnings == ("LoRA 'missing' is not installed on this ComfyUI instance; skipped",)


def test_loras_of_an_instance_that_did_not_say_which_it_has_are_all_skipped() -> None:
    base = template("sdxl_base")
    unknown = inject_loras(base, [LoraSpec("a"), LoraSpec("b")], available=None)
    assert unknown.graph == base
    assert unknown.applied == ()
    assert unknown.warnings == (
        "LoRA 'a' skipped: this ComfyUI instance did not say which LoRAs it has",
        "LoRA 'b' skipped: this ComfyUI instance did not say which LoRAs it has",
    )


def test_graph_without_a_model_loader_skips_loras_with_a_warning() -> None:
    graph = template("model_free")
    injected = inject_loras(graph, [LoraSpec("a"), LoraSpec("b")], available={"a", "b"})
    assert injected.graph == graph
    assert injected.applied == ()
    assert injected.warnings == (
        "LoRAs skipped (a, b): this workflow has no checkpoint or UNet loader",
    )
