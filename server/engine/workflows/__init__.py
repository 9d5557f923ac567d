"""ComfyUI workflow templates: output configs, parameter mapping and LoRA injection (pure)."""

from __future__ import annotations

from server.engine.workflows.catalog import Workflow, load_workflow, load_workflows
from server.engine.workflows.graph import Graph, WorkflowError
from server.engine.workflows.image import (
    ImageNotAccepted,
    ImageRequired,
    image_output,
    inject_image,
)
from server.engine.workflows.loras import LoraInjection, LoraSpec, inject_loras
from server.engine.workflows.mapping import (
    ImageSlot,
    OutputConfig,
    ParamSpec,
    inject_parameters,
    resolve_values,
    validate_mapping,
)

__all__ = [
    "Graph",
    "ImageNotAccepted",
    "ImageRequired",
    "ImageSlot",
    "LoraInjection",
    "LoraSpec",
    "OutputConfig",
    "ParamSpec",
    "Workflow",
    "WorkflowError",
    "image_output",
    "inject_image",
    "inject_loras",
    "inject_parameters",
    "load_workflow",
    "load_workflows",
    "resolve_values",
    "validate_mapping",
]
