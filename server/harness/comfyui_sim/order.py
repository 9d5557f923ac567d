"""ComfyUI's execution order and cache signatures for a prompt graph (pure functions).

A graph maps node ids to `{"class_type": ..., "inputs": {...}}`; an input that is a
`[node_id, output_index]` pair naming a node of the graph is a link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

Graph = dict[str, Any]


def links(graph: Graph, nid: str) -> list[str]:
    """The nodes feeding `nid`, in the order of its inputs."""
    return [
        v[0]
        for v in graph[nid].get("inputs", {}).values()
        if isinstance(v, list) and len(v) == 2 and v[0] in graph
    ]


def execution_order(
    graph: Graph, outputs: Iterable[str], is_output: Callable[[str], bool]
) -> list[str]:
    """ComfyUI's execution order: a topological sort that picks, among ready nodes,
    an output node first, then a node feeding one (one or two links away)."""
    pending: list[str] = []
    for out in outputs:
        _visit(graph, out, pending)
    deps = {nid: set(links(graph, nid)) for nid in pending}
    order: list[str] = []
    while len(order) < len(pending):
        ready = [n for n in pending if n not in order and deps[n] <= set(order)]
        order.append(_pick(ready, deps, is_output))
    return order


def _visit(graph: Graph, nid: str, pending: list[str]) -> None:
    if nid in pending:
        return
    pending.append(nid)
    for src in reversed(links(graph, nid)):
        _visit(graph, src, pending)


def _pick(ready: list[str], deps: dict[str, set[str]], is_output: Callable[[str], bool]) -> str:
    def consumers(nid: str) -> list[str]:
        return [n for n, d in deps.items() if nid in d]

    for test in (
        is_output,
        lambda n: any(is_output(c) for c in consumers(n)),
        lambda n: any(is_output(c2) for c in consumers(n) for c2 in consumers(c)),
    ):
        for nid in ready:
            if test(nid):
                return nid
    return ready[0]


def signature(graph: Graph, nid: str, memo: dict[str, str]) -> str:
    """The node's class and inputs, each link replaced by its source's signature (memoised)."""
    if nid not in memo:
        node = graph[nid]
        inputs = {
            k: (
                signature(graph, v[0], memo) + f":{v[1]}"
                if isinstance(v, list) and len(v) == 2 and v[0] in graph
                else v
            )
            for k, v in node.get("inputs", {}).items()
        }
        memo[nid] = orjson.dumps([node["class_type"], inputs], option=orjson.OPT_SORT_KEYS).decode()
    return memo[nid]
