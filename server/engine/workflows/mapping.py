"""Output configs: which run parameter goes into which node input, with defaults and ranges.

`validate_mapping` runs when the catalog loads (a bad mapping stops start-up);
`resolve_values` turns a run's requested values into checked, complete values (drawing a random
seed when none is given); `inject_parameters` writes them into a fresh copy of the template.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.engine.workflows.graph import Graph, WorkflowError, copy_graph, is_link

#: The parameter names the pipeline knows; a config may map any subset of them.
KNOWN_PARAMETERS = frozenset(
    {
        "prompt",
        "negative_prompt",
        "seed",
        "width",
        "height",
        "steps",
        "cfg",
        "sampler",
        "scheduler",
        "checkpoint",
        "denoise",
    }
)
SEED_MAX = 2**53 - 1


class ParamSpec(BaseModel):
    """Where one parameter goes (node id and input name), its type, default and bounds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    node: str
    input: str
    type: Literal["string", "int", "float"] = "string"
    default: str | int | float | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    max_length: int = 4000


class ImageSlot(BaseModel):
    """Where the run's own picture goes: the node input (a `LoadImage`'s `image`) that gets
    the name ComfyUI gave the upload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    node: str
    input: str = "image"


class OutputConfig(BaseModel):
    """An output config file: a named graph plus its parameter mapping.

    `image`: the graph starts from the student's picture (image-to-image, an edit), so a run
    needs one. `image_variant`: the id of the config that renders this output's runs that
    bring a picture (a text-to-image output and its img2img twin), so the output accepts one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str
    graph: str
    description: str = ""
    requires_models: bool = True
    parameters: dict[str, ParamSpec]
    image: ImageSlot | None = None
    image_variant: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")

    @property
    def requires_image(self) -> bool:
        return self.image is not None

    @property
    def accepts_image(self) -> bool:
        return self.image is not None or self.image_variant is not None


def validate_mapping(graph: Graph, mapping: Mapping[str, ParamSpec], source: str) -> None:
    """Raise WorkflowError naming `source` and the node when a mapping points nowhere."""
    for name, spec in mapping.items():
        if name not in KNOWN_PARAMETERS:
            raise WorkflowError(f"{source}: unknown parameter {name!r}")
        node = graph.get(spec.node)
        if node is None:
            raise WorkflowError(
                f"{source}: parameter {name!r} maps to node {spec.node!r}, "
                "which is not in the graph"
            )
        inputs = node.get("inputs", {})
        if spec.input not in inputs:
            raise WorkflowError(
                f"{source}: parameter {name!r} maps to input {spec.input!r} of node "
                f"{spec.node!r} ({node['class_type']}), which has no such input"
            )
        if is_link(inputs[spec.input]):
            raise WorkflowError(
                f"{source}: parameter {name!r} maps to node {spec.node!r} input "
                f"{spec.input!r}, which is a link, not a value"
            )
        if spec.default is not None:
            _check(name, spec, spec.default, source)
    if "seed" in mapping and mapping["seed"].type != "int":
        raise WorkflowError(f"{source}: parameter 'seed' must have type 'int'")


def resolve_values(
    mapping: Mapping[str, ParamSpec],
    requested: Mapping[str, object],
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """Checked values for every mapped parameter; a random seed when none is given.

    Requested values for parameters the config does not map are ignored (a model-free graph
    has no prompt input); the returned dict holds the seed actually used, for the run record.
    """
    values: dict[str, Any] = {}
    for name, spec in mapping.items():
        value = requested.get(name)
        if value is None:
            value = spec.default
        if value is None and name == "seed":
            value = (rng or random.SystemRandom()).randint(0, SEED_MAX)
        if value is None:
            continue
        values[name] = _check(name, spec, value, "request")
    return values


def inject_parameters(
    template: Graph, mapping: Mapping[str, ParamSpec], values: Mapping[str, Any]
) -> Graph:
    """A new graph with each value written to its mapped node input; the template is untouched."""
    graph = copy_graph(template)
    for name, value in values.items():
        spec = mapping.get(name)
        if spec is None:
            continue
        node = graph.get(spec.node)
        if node is None:
            raise WorkflowError(f"parameter {name!r}: node {spec.node!r} is not in the graph")
        node.setdefault("inputs", {})[spec.input] = value
    return graph


def _check(name: str, spec: ParamSpec, value: object, source: str) -> str | int | float:
    """Coerce and bound-check one value; WorkflowError names the parameter."""
    if spec.type == "string":
        if not isinstance(value, str):
            raise WorkflowError(f"{source}: {name} must be a string")
        if len(value) > spec.max_length:
            raise WorkflowError(f"{source}: {name} is longer than {spec.max_length} characters")
        if spec.choices is not None and value not in spec.choices:
            raise WorkflowError(f"{source}: {name} {value!r} is not one of {list(spec.choices)}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WorkflowError(f"{source}: {name} must be a number")
    number: int | float = value
    if spec.type == "int":
        if isinstance(value, float) and not value.is_integer():
            raise WorkflowError(f"{source}: {name} must be a whole number")
        number = int(value)
    else:
        number = float(value)
    if spec.min is not None and number < spec.min:
        raise WorkflowError(f"{source}: {name} {number} is below the minimum {spec.min:g}")
    if spec.max is not None and number > spec.max:
        raise WorkflowError(f"{source}: {name} {number} is above the maximum {spec.max:g}")
    return number
