"""LoRA chain injection into an API-format graph (pure).

The model source (a checkpoint or UNet loader) and the CLIP source (the checkpoint's CLIP
output, or a CLIPLoader/DualCLIPLoader/TripleCLIPLoader) are found by class; one `LoraLoader`
per LoRA is chained after them (`LoraLoaderModelOnly` when the graph has no CLIP), and every
consumer of the original MODEL and CLIP outputs is rewired to the end of the chain.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from server.engine.workflows.graph import Graph, copy_graph, fresh_id, iter_links

#: class_type -> output index of MODEL.
MODEL_SOURCES: dict[str, int] = {
    "CheckpointLoaderSimple": 0,
    "CheckpointLoader": 0,
    "ImageOnlyCheckpointLoader": 0,
    "UNETLoader": 0,
    "UnetLoaderGGUF": 0,
}
#: class_type -> output index of CLIP. Dedicated loaders win over a checkpoint's CLIP.
CLIP_LOADERS: dict[str, int] = {"CLIPLoader": 0, "DualCLIPLoader": 0, "TripleCLIPLoader": 0}
CHECKPOINT_CLIP: dict[str, int] = {"CheckpointLoaderSimple": 1, "CheckpointLoader": 1}


@dataclass(frozen=True)
class LoraSpec:
    """One LoRA to apply, by file name as ComfyUI lists it under `loras`."""

    name: str
    strength_model: float = 1.0
    strength_clip: float = 1.0


@dataclass(frozen=True)
class LoraInjection:
    """The new graph, what was applied, and readable warnings for what was skipped."""

    graph: Graph
    applied: tuple[str, ...]
    warnings: tuple[str, ...]


def inject_loras(
    graph: Graph,
    loras: Sequence[LoraSpec],
    *,
    available: Collection[str] | None,
) -> LoraInjection:
    """Chain `loras` into a copy of `graph`; LoRAs not in `available` are skipped with a warning.

    `available` is what the ComfyUI instance lists under `loras`; None means nobody knows
    (it did not answer): then every LoRA is skipped, since ComfyUI rejects a whole graph that
    names a LoRA it does not have.
    """
    wanted, warnings = _filter_available(loras, available)
    result = copy_graph(graph)
    if not wanted:
        return LoraInjection(result, (), warnings)
    model_src = _find_source(graph, MODEL_SOURCES, "model")
    if model_src is None:  # e.g. a model-free graph: a perspective's style cannot apply here
        skipped = ", ".join(spec.name for spec in wanted)
        note = f"LoRAs skipped ({skipped}): this workflow has no checkpoint or UNet loader"
        return LoraInjection(result, (), (*warnings, note))
    clip_src = _find_source(graph, CLIP_LOADERS, "clip") or _find_source(
        graph, CHECKPOINT_CLIP, "clip"
    )
    model_end, clip_end = _chain(result, wanted, model_src, clip_src)
    _rewire(result, model_src, model_end, skip=set(result) - set(graph))
    if clip_src is not None and clip_end is not None:
        _rewire(result, clip_src, clip_end, skip=set(result) - set(graph))
    return LoraInjection(result, tuple(spec.name for spec in wanted), warnings)


def _filter_available(
    loras: Sequence[LoraSpec], available: Collection[str] | None
) -> tuple[list[LoraSpec], tuple[str, ...]]:
    if available is None:
        return [], tuple(
            f"LoRA {spec.name!r} skipped: this ComfyUI instance did not say which LoRAs it has"
            for spec in loras
        )
    wanted = [spec for spec in loras if spec.name in available]
    warnings = tuple(
        f"LoRA {spec.name!r} is not installed on this ComfyUI instance; skipped"
        for spec in loras
        if spec.name not in available
    )
    return wanted, warnings


def _find_source(graph: Graph, classes: dict[str, int], what: str) -> tuple[str, int] | None:
    """The (node id, output index) of the first matching loader, by numeric id order."""
    del what
    for node_id in sorted(graph, key=_id_key):
        index = classes.get(graph[node_id]["class_type"])
        if index is not None:
            return node_id, index
    return None


def _chain(
    graph: Graph,
    loras: Sequence[LoraSpec],
    model_src: tuple[str, int],
    clip_src: tuple[str, int] | None,
) -> tuple[tuple[str, int], tuple[str, int] | None]:
    model: tuple[str, int] = model_src
    clip = clip_src
    added: set[str] = set()
    for spec in loras:
        node_id = fresh_id(graph, added)
        added.add(node_id)
        if clip is None:
            graph[node_id] = {
                "class_type": "LoraLoaderModelOnly",
                "inputs": {
                    "model": list(model),
                    "lora_name": spec.name,
                    "strength_model": spec.strength_model,
                },
                "_meta": {"title": f"LoRA {spec.name}"},
            }
        else:
            graph[node_id] = {
                "class_type": "LoraLoader",
                "inputs": {
                    "model": list(model),
                    "clip": list(clip),
                    "lora_name": spec.name,
                    "strength_model": spec.strength_model,
                    "strength_clip": spec.strength_clip,
                },
                "_meta": {"title": f"LoRA {spec.name}"},
            }
            clip = (node_id, 1)
        model = (node_id, 0)
    return model, clip


def _rewire(graph: Graph, old: tuple[str, int], new: tuple[str, int], skip: set[str]) -> None:
    """Point every consumer of `old` (outside the chain itself) at `new`."""
    for node_id, name, link in list(iter_links(graph)):
        if node_id in skip or (link[0], link[1]) != old:
            continue
        graph[node_id]["inputs"][name] = list(new)


def _id_key(node_id: str) -> tuple[int, str]:
    return (int(node_id), "") if node_id.isdigit() else (1 << 62, node_id)
