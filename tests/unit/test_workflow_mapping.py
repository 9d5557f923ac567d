"""Output configs: mapping validation at load time, value resolution and injection."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from server.engine.workflows import (
    ParamSpec,
    WorkflowError,
    inject_parameters,
    load_workflow,
    load_workflows,
    resolve_values,
    validate_mapping,
)
from tests.comfyui_support import WORKFLOWS


def test_every_shipped_output_config_loads_and_validates() -> None:
    workflows = load_workflows(WORKFLOWS)
    assert set(workflows) == {
        "sd35_large",
        "sdxl_base",
        "model_free",
        "sdxl_img2img",
        "sd35_img2img",
        "model_free_img2img",
        "flux_kontext_edit",
    }
    for wf in workflows.values():
        validate_mapping(wf.template, wf.config.parameters, str(wf.source))


def _write(tmp: Path, params: dict[str, object], graph_name: str = "sdxl_base.json") -> Path:
    (tmp / "comfyui").mkdir(exist_ok=True)
    (tmp / "output").mkdir(exist_ok=True)
    (tmp / "comfyui" / graph_name).write_bytes((WORKFLOWS / "comfyui" / graph_name).read_bytes())
    path = tmp / "output" / "broken.json"
    path.write_text(
        json.dumps({"id": "broken", "name": "Broken", "graph": graph_name, "parameters": params})
    )
    return path


def test_mapping_to_a_missing_node_names_the_file_and_node(tmp_path: Path) -> None:
    path = _write(tmp_path, {"prompt": {"node": "42", "input": "text"}})
    with pytest.raises(WorkflowError) as info:
        load_workflow(path, tmp_path / "comfyui")
    assert str(path) in str(info.value)
    assert "node '42'" in str(info.value)


def test_mapping_to_a_missing_input_names_the_node_and_class(tmp_path: Path) -> None:
    path = _write(tmp_path, {"seed": {"node": "5", "input": "noise_seed", "type": "int"}})
    with pytest.raises(WorkflowError, match=r"input 'noise_seed' of node '5' \(KSampler\)"):
        load_workflow(path, tmp_path / "comfyui")


def test_mapping_to_a_linked_input_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, {"prompt": {"node": "5", "input": "positive"}})
    with pytest.raises(WorkflowError, match="is a link"):
        load_workflow(path, tmp_path / "comfyui")


def test_default_outside_its_range_is_refused_at_load(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {"steps": {"node": "5", "input": "steps", "type": "int", "default": 500, "max": 60}},
    )
    with pytest.raises(WorkflowError, match="steps 500 is above the maximum 60"):
        load_workflow(path, tmp_path / "comfyui")


def test_ui_format_export_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = _write(tmp_path, {})
    (tmp_path / "comfyui" / "sdxl_base.json").write_text('{"nodes": [], "links": []}')
    with pytest.raises(WorkflowError, match="Save \\(API Format\\)"):
        load_workflow(path, tmp_path / "comfyui")


def test_resolve_values_applies_defaults_bounds_and_a_random_seed() -> None:
    params = load_workflows(WORKFLOWS)["sdxl_base"].config.parameters
    values = resolve_values(params, {"prompt": "a heron"}, random.Random(7))
    assert values["width"] == 1024
    assert values["sampler"] == "dpmpp_2m"
    assert values["seed"] == random.Random(7).randint(0, 2**53 - 1)
    assert resolve_values(params, {"prompt": "x", "seed": 5})["seed"] == 5
    with pytest.raises(WorkflowError, match="width 4096 is above the maximum"):
        resolve_values(params, {"prompt": "x", "width": 4096})
    with pytest.raises(WorkflowError, match="sampler 'magic' is not one of"):
        resolve_values(params, {"prompt": "x", "sampler": "magic"})
    with pytest.raises(WorkflowError, match="steps must be a whole number"):
        resolve_values(params, {"prompt": "x", "steps": 2.5})


def test_inject_parameters_writes_a_copy_and_leaves_the_template() -> None:
    wf = load_workflows(WORKFLOWS)["sd35_large"]
    before = copy.deepcopy(wf.template)
    values = resolve_values(wf.config.parameters, {"prompt": "a kite", "seed": 9, "cfg": 3})
    graph = inject_parameters(wf.template, wf.config.parameters, values)
    assert wf.template == before
    assert graph["5"]["inputs"]["text"] == "a kite"
    assert graph["8"]["inputs"]["seed"] == 9
    assert graph["8"]["inputs"]["cfg"] == 3.0
    assert graph["1"]["inputs"]["unet_name"] == "sd3.5_large.safetensors"


def test_unknown_parameter_name_is_refused() -> None:
    graph = {"1": {"class_type": "X", "inputs": {"a": 1}}}
    with pytest.raises(WorkflowError, match="unknown parameter 'colour'"):
        validate_mapping(graph, {"colour": ParamSpec(node="1", input="a")}, "f.json")
