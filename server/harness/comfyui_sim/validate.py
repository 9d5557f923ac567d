"""Prompt validation with ComfyUI's error shapes (400 structural errors, per-node errors,
and the partial 200 when at least one output validates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.harness.comfyui_sim.catalog import NodeDef, is_value_type

_TRACEBACK = [
    '  File "ComfyUI/execution.py", line 808, in validate_inputs\n'
    "    r = await validate_inputs(prompt_id, prompt, o_id, validated)\n",
    '  File "ComfyUI/execution.py", line 788, in validate_inputs\n'
    "    o_class_type = prompt[o_id]['class_type']\n",
]


@dataclass
class Validation:
    status: int
    error: dict[str, Any] | None = None
    node_errors: dict[str, Any] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)


def _err(kind: str, message: str, details: str = "") -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": {}}


def id_order(node_id: str) -> tuple[int, str]:
    return (int(node_id), "") if node_id.isdigit() else (-1, node_id)


class _Validator:
    def __init__(
        self, graph: dict[str, Any], catalog: dict[str, NodeDef], input_files: set[str]
    ) -> None:
        self.graph = graph
        self.catalog = catalog
        self.input_files = input_files
        self.valid: dict[str, bool] = {}
        self.errors: dict[str, list[dict[str, Any]]] = {}

    def node(self, nid: str) -> bool:
        """Validate `nid` and its inputs; KeyError escapes for a link to a missing node."""
        if nid in self.valid:
            return self.valid[nid]
        node = self.graph[nid]
        definition = self.catalog[node["class_type"]]
        inputs = node.get("inputs", {})
        ok = True
        specs = {
            **definition.required,
            **{k: v for k, v in definition.optional.items() if k in inputs},
        }
        for name, spec in specs.items():
            if name not in inputs:
                self._add(
                    nid,
                    "required_input_missing",
                    "Required input is missing",
                    name,
                    {"input_name": name},
                )
                ok = False
            elif isinstance(inputs[name], list):
                ok = self._link(nid, name, spec, inputs[name]) and ok
            elif is_value_type(spec):
                ok = self._value(nid, definition, name, spec, inputs[name]) and ok
        self.valid[nid] = ok
        return ok

    def _add(self, nid: str, kind: str, message: str, details: str, extra: dict[str, Any]) -> None:
        self.errors.setdefault(nid, []).append(
            {"type": kind, "message": message, "details": details, "extra_info": extra}
        )

    def _link(self, nid: str, name: str, spec: list[Any], link: list[Any]) -> bool:
        if len(link) != 2:
            self._add(
                nid,
                "bad_linked_input",
                "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                name,
                {"input_name": name, "input_config": spec, "received_value": link},
            )
            return False
        src, index = str(link[0]), link[1]
        if src not in self.graph:
            raise KeyError(src)
        src_def = self.catalog[self.graph[src]["class_type"]]
        received = src_def.outputs[index] if 0 <= index < len(src_def.outputs) else "*"
        if not is_value_type(spec) and received != spec[0]:
            self._add(
                nid,
                "return_type_mismatch",
                "Return type mismatch between linked nodes",
                f"{name}, received_type({received}) mismatch input_type({spec[0]})",
                {
                    "input_name": name,
                    "input_config": spec,
                    "received_type": received,
                    "linked_node": [src, index],
                },
            )
            return False
        try:
            return self.node(src)
        except KeyError as exc:
            self._add(
                src,
                "exception_during_inner_validation",
                "Exception when validating inner node",
                repr(exc.args[0]),
                {
                    "input_name": name,
                    "input_config": spec,
                    "exception_message": repr(exc.args[0]),
                    "exception_type": "KeyError",
                    "traceback": _TRACEBACK,
                    "linked_node": [src, index],
                },
            )
            self.valid[src] = False
            return False

    def _value(self, nid: str, definition: NodeDef, name: str, spec: list[Any], value: Any) -> bool:
        kind, options = spec[0], spec[1] if len(spec) > 1 else {}
        extra = {"input_name": name, "input_config": spec, "received_value": value}
        if isinstance(kind, list) or kind == "COMBO":
            choices = kind if isinstance(kind, list) else options.get("options", [])
            if definition.name == "LoadImage":
                return self._load_image(nid, name, value)
            if value not in choices:
                shown = choices if len(choices) <= 20 else [*choices[:20], "..."]
                self._add(
                    nid,
                    "value_not_in_list",
                    "Value not in list",
                    f"{name}: '{value}' not in {shown}",
                    extra,
                )
                return False
            return True
        try:
            number = int(value) if kind == "INT" else float(value) if kind == "FLOAT" else None
        except (TypeError, ValueError) as exc:
            self._add(
                nid,
                "invalid_input_type",
                f"Failed to convert an input value to a {kind} value",
                f"{name}, {value}, {exc}",
                {**extra, "exception_message": str(exc)},
            )
            return False
        if number is None:
            return True
        if "min" in options and number < options["min"]:
            self._add(
                nid,
                "value_smaller_than_min",
                f"Value {number} smaller than min of {options['min']}",
                name,
                extra,
            )
            return False
        if "max" in options and number > options["max"]:
            self._add(
                nid,
                "value_bigger_than_max",
                f"Value {number} bigger than max of {options['max']}",
                name,
                extra,
            )
            return False
        return True

    def _load_image(self, nid: str, name: str, value: Any) -> bool:
        if value in self.input_files:
            return True
        self._add(
            nid,
            "custom_validation_failed",
            "Custom validation failed for node",
            f"{name} - Invalid image file: {value}",
            {"input_name": name},
        )
        return False

    def reach(self, nid: str, seen: set[str]) -> set[str]:
        if nid in seen or nid not in self.graph:
            return seen
        seen.add(nid)
        for value in self.graph[nid].get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                self.reach(value[0], seen)
        return seen


def validate_prompt(
    graph: dict[str, Any], catalog: dict[str, NodeDef], input_files: set[str]
) -> Validation:
    """ComfyUI's `validate_prompt`; raises TypeError for a non-object (the route gives 500)."""
    if not isinstance(graph, dict):
        raise TypeError("prompt is not an object")
    for nid, node in graph.items():
        if not isinstance(node, dict) or "class_type" not in node:
            return Validation(
                400,
                _err(
                    "invalid_prompt",
                    "Cannot execute because a node is missing the class_type property.",
                    f"Node ID '#{nid}'",
                ),
            )
        if node["class_type"] not in catalog:
            return Validation(
                400,
                _err(
                    "invalid_prompt",
                    f"Cannot execute because node {node['class_type']} does not exist.",
                    f"Node ID '#{nid}'",
                ),
            )
    outputs = sorted(
        (nid for nid, n in graph.items() if catalog[n["class_type"]].output_node),
        key=id_order,
        reverse=True,
    )
    if not outputs:
        return Validation(400, _err("prompt_no_outputs", "Prompt has no outputs"))
    return _validate_outputs(_Validator(graph, catalog, input_files), outputs)


def _validate_outputs(v: _Validator, outputs: list[str]) -> Validation:
    good: list[str] = []
    for out in outputs:
        try:
            if v.node(out):
                good.append(out)
        except KeyError as exc:
            v._add(
                out,
                "exception_during_validation",
                "Exception when validating node",
                repr(exc.args[0]),
                {},
            )
    reach = {out: v.reach(out, set()) for out in outputs}
    node_errors = {
        nid: {
            "errors": errs,
            "dependent_outputs": [o for o in outputs if nid in reach[o]],
            "class_type": v.graph[nid]["class_type"],
        }
        for nid, errs in v.errors.items()
    }
    if good:
        return Validation(200, None, node_errors, good)
    own = [f"{e['message']}: {e['details']}" for o in outputs for e in v.errors.get(o, [])]
    return Validation(
        400,
        _err(
            "prompt_outputs_failed_validation", "Prompt outputs failed validation", "\n".join(own)
        ),
        node_errors,
    )
