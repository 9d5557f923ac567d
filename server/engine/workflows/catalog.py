"""Loading output configs and their graphs from `workflows/`, validated at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
from pydantic import ValidationError

from server.engine.workflows.graph import Graph, WorkflowError, check_graph_shape, copy_graph
from server.engine.workflows.image import validate_image_slot, validate_variants
from server.engine.workflows.mapping import OutputConfig, validate_mapping


@dataclass(frozen=True)
class Workflow:
    """One usable output: its config and its (never mutated) template graph."""

    config: OutputConfig
    template: Graph
    source: Path

    def graph(self) -> Graph:
        """A private copy of the template for one run."""
        return copy_graph(self.template)


def load_workflow(config_path: Path, graphs_dir: Path) -> Workflow:
    """Load and validate one output config; WorkflowError names the file and the node."""
    source = str(config_path)
    try:
        config = OutputConfig.model_validate(orjson.loads(config_path.read_bytes()))
    except (OSError, orjson.JSONDecodeError, ValidationError) as exc:
        raise WorkflowError(f"{source}: {exc}") from exc
    graph_path = (graphs_dir / config.graph).resolve()
    if graphs_dir.resolve() not in graph_path.parents:
        raise WorkflowError(f"{source}: graph {config.graph!r} is outside {graphs_dir}")
    try:
        raw = orjson.loads(graph_path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise WorkflowError(f"{source}: cannot read graph {graph_path}: {exc}") from exc
    template = check_graph_shape(raw, str(graph_path))
    validate_mapping(template, config.parameters, f"{source} (graph {config.graph})")
    validate_image_slot(template, config, f"{source} (graph {config.graph})")
    return Workflow(config=config, template=template, source=config_path)


def load_workflows(root: Path) -> dict[str, Workflow]:
    """Every `root/output/*.json`, keyed by config id; duplicate ids, and an image variant
    that is missing or takes no picture, stop start-up."""
    found: dict[str, Workflow] = {}
    for path in sorted((root / "output").glob("*.json")):
        workflow = load_workflow(path, root / "comfyui")
        if workflow.config.id in found:
            raise WorkflowError(f"{path}: duplicate output id {workflow.config.id!r}")
        found[workflow.config.id] = workflow
    validate_variants(found)
    return found
