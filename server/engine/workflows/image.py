"""The run's own picture in an output config: its slot in the graph, and which config renders a
run that brings one (pure).

An output with an `image` slot starts from a picture (img2img, an edit) and needs one; an output
with an `image_variant` renders from the prompt alone and hands runs that bring a picture to its
variant. Both are checked when the workflows load, so a slot that points nowhere or a variant
that takes no picture stops start-up like any other broken mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from server.engine.workflows.graph import Graph, WorkflowError, copy_graph, is_link
from server.engine.workflows.mapping import ImageSlot, OutputConfig


class ImageNotAccepted(WorkflowError):
    """A run brought a picture to an output that takes none."""


class ImageRequired(WorkflowError):
    """A run without a picture asked for an output that starts from one."""


class HasConfig(Protocol):
    @property
    def config(self) -> OutputConfig: ...


def validate_image_slot(graph: Graph, config: OutputConfig, source: str) -> None:
    """The slot names a literal input of a node in the graph, which no parameter also maps."""
    slot = config.image
    if slot is None:
        return
    node = graph.get(slot.node)
    if node is None:
        raise WorkflowError(
            f"{source}: image maps to node {slot.node!r}, which is not in the graph"
        )
    inputs = node.get("inputs", {})
    if slot.input not in inputs:
        raise WorkflowError(
            f"{source}: image maps to input {slot.input!r} of node {slot.node!r} "
            f"({node['class_type']}), which has no such input"
        )
    if not isinstance(inputs[slot.input], str) or is_link(inputs[slot.input]):
        raise WorkflowError(
            f"{source}: image maps to node {slot.node!r} input {slot.input!r}, "
            "which is not a file name"
        )
    taken = [name for name, spec in config.parameters.items() if _same(spec, slot)]
    if taken:
        raise WorkflowError(f"{source}: image and parameter {taken[0]!r} map to the same input")
    if config.image_variant is not None:
        raise WorkflowError(f"{source}: an output with an image slot cannot name an image_variant")


def validate_variants(workflows: Mapping[str, HasConfig]) -> None:
    """Every `image_variant` names a loaded config that has an image slot."""
    for output_id, workflow in workflows.items():
        variant = workflow.config.image_variant
        if variant is None:
            continue
        target = workflows.get(variant)
        if target is None:
            raise WorkflowError(f"output {output_id!r}: image_variant {variant!r} is not loaded")
        if target.config.image is None:
            raise WorkflowError(
                f"output {output_id!r}: image_variant {variant!r} has no image slot"
            )


def image_output(workflows: Mapping[str, HasConfig], output_id: str, has_image: bool) -> str:
    """The id of the config that renders a run of `output_id` with or without a picture."""
    config = workflows[output_id].config
    if not has_image:
        if config.requires_image:
            raise ImageRequired(f"output {output_id!r} starts from a picture")
        return output_id
    if config.image is not None:
        return output_id
    if config.image_variant is not None:
        return config.image_variant
    raise ImageNotAccepted(f"output {output_id!r} takes no picture")


def inject_image(graph: Graph, slot: ImageSlot, reference: str) -> Graph:
    """A copy of `graph` whose slot names the uploaded file (`subfolder/name`, as ComfyUI's
    `LoadImage` reads it)."""
    result = copy_graph(graph)
    node = result.get(slot.node)
    if node is None:
        raise WorkflowError(f"image: node {slot.node!r} is not in the graph")
    node.setdefault("inputs", {})[slot.input] = reference
    return result


def _same(spec: object, slot: ImageSlot) -> bool:
    return getattr(spec, "node", None) == slot.node and getattr(spec, "input", None) == slot.input
