"""The API-format graph type and small helpers shared by mapping and LoRA injection.

A graph is `{node_id: {"class_type": str, "inputs": {name: literal | [src_id, index]}}}`;
a two-element list whose first item is a string is a link (ComfyUI's own rule).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from server.engine.errors import AtelierError

Graph = dict[str, dict[str, Any]]


class WorkflowError(AtelierError):
    """A workflow file or mapping is unusable; the message names the file and the node."""


def copy_graph(graph: Graph) -> Graph:
    """A deep copy, so templates are never mutated by a run."""
    return copy.deepcopy(graph)


def is_link(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    )


def iter_links(graph: Graph) -> Iterator[tuple[str, str, list[Any]]]:
    """Yield (node_id, input_name, link) for every linked input."""
    for node_id, node in graph.items():
        for name, value in node.get("inputs", {}).items():
            if is_link(value):
                yield node_id, name, value


def fresh_id(graph: Graph, taken: set[str]) -> str:
    """The next numeric id not used in the graph nor in `taken`."""
    numeric = [int(k) for k in (*graph, *taken) if k.isdigit()]
    candidate = max(numeric, default=0) + 1
    while str(candidate) in graph or str(candidate) in taken:
        candidate += 1
    return str(candidate)


def check_graph_shape(graph: object, source: str) -> Graph:
    """Reject anything that is not an API-format graph (e.g. a UI-format export)."""
    if not isinstance(graph, dict) or not graph:
        raise WorkflowError(f"{source}: not an API-format graph (expected a non-empty object)")
    if "nodes" in graph and "links" in graph:
        raise WorkflowError(
            f"{source}: this is a UI-format workflow; export it with 'Save (API Format)'"
        )
    for node_id, node in graph.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
            raise WorkflowError(f"{source}: node {node_id!r} has no class_type")
        if not isinstance(node.get("inputs", {}), dict):
            raise WorkflowError(f"{source}: node {node_id!r} has no inputs object")
    return graph
