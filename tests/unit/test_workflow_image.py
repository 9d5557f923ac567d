"""The student's picture in output configs: the slot checked at load, variants, injection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.engine.workflows import (
    ImageNotAccepted,
    ImageRequired,
    Workflow,
    WorkflowError,
    image_output,
    inject_image,
    inject_parameters,
    load_workflow,
    load_workflows,
    resolve_values,
)
from tests.comfyui_support import WORKFLOWS


def _config(tmp: Path, name: str, graph: str, **extra: Any) -> Path:
    (tmp / "comfyui").mkdir(exist_ok=True)
    (tmp / "output").mkdir(exist_ok=True)
    (tmp / "comfyui" / graph).write_bytes((WORKFLOWS / "comfyui" / graph).read_bytes())
    path = tmp / "output" / f"{name}.json"
    body = {"id": name, "name": name, "graph": graph, "parameters": {}, **extra}
    path.write_text(json.dumps(body))
    return path


def test_shipped_outputs_say_whether_they_take_a_picture() -> None:
    workflows = load_workflows(WORKFLOWS)
    flags = {
        key: (wf.config.accepts_image, wf.config.requires_image) for key, wf in workflows.items()
    }
    assert flags == {
        "sdxl_base": (True, False),
        "sd35_large": (True, False),
        "model_free": (True, False),
        "sdxl_img2img": (True, True),
        "sd35_img2img": (True, True),
        "model_free_img2img": (True, True),
        "flux_kontext_edit": (True, True),
    }
    for key in ("sdxl_img2img", "sd35_img2img", "model_free_img2img", "flux_kontext_edit"):
        slot = workflows[key].config.image
        assert slot is not None
        assert workflows[key].template[slot.node]["class_type"] == "LoadImage"


def test_img2img_configs_keep_the_picture_with_a_denoise_below_one() -> None:
    workflows = load_workflows(WORKFLOWS)
    for key in ("sdxl_img2img", "sd35_img2img"):
        wf = workflows[key]
        values = resolve_values(wf.config.parameters, {"prompt": "a cat", "seed": 3})
        graph = inject_parameters(wf.template, wf.config.parameters, values)
        sampler = next(n for n in graph.values() if n["class_type"] == "KSampler")
        assert 0 < sampler["inputs"]["denoise"] < 1
        encoded = graph[sampler["inputs"]["latent_image"][0]]
        assert encoded["class_type"] == "VAEEncode"


def test_an_image_slot_on_a_missing_node_is_a_load_error(tmp_path: Path) -> None:
    path = _config(tmp_path, "broken", "sdxl_img2img.json", image={"node": "99"})
    with pytest.raises(WorkflowError, match="image maps to node '99'") as info:
        load_workflow(path, tmp_path / "comfyui")
    assert str(path) in str(info.value)


def test_an_image_slot_on_a_missing_input_or_a_link_is_a_load_error(tmp_path: Path) -> None:
    path = _config(tmp_path, "nope", "sdxl_img2img.json", image={"node": "10", "input": "file"})
    with pytest.raises(WorkflowError, match=r"input 'file' of node '10' \(LoadImage\)"):
        load_workflow(path, tmp_path / "comfyui")
    path = _config(tmp_path, "link", "sdxl_img2img.json", image={"node": "11"})
    with pytest.raises(WorkflowError, match="not a file name"):
        load_workflow(path, tmp_path / "comfyui")


def test_a_slot_that_a_parameter_also_maps_is_a_load_error(tmp_path: Path) -> None:
    params = {"prompt": {"node": "10", "input": "image"}}
    path = _config(tmp_path, "twice", "sdxl_img2img.json", image={"node": "10"}, parameters=params)
    with pytest.raises(WorkflowError, match="parameter 'prompt' map to the same input"):
        load_workflow(path, tmp_path / "comfyui")


def test_a_variant_must_exist_and_take_a_picture(tmp_path: Path) -> None:
    _config(tmp_path, "base", "sdxl_base.json", image_variant="gone")
    with pytest.raises(WorkflowError, match="image_variant 'gone' is not loaded"):
        load_workflows(tmp_path)
    _config(tmp_path, "base", "sdxl_base.json", image_variant="other")
    _config(tmp_path, "other", "sdxl_base.json")
    with pytest.raises(WorkflowError, match="image_variant 'other' has no image slot"):
        load_workflows(tmp_path)


def test_image_output_picks_the_variant_and_refuses_what_does_not_fit() -> None:
    workflows = load_workflows(WORKFLOWS)
    assert image_output(workflows, "sdxl_base", has_image=True) == "sdxl_img2img"
    assert image_output(workflows, "sdxl_base", has_image=False) == "sdxl_base"
    assert image_output(workflows, "flux_kontext_edit", has_image=True) == "flux_kontext_edit"
    with pytest.raises(ImageRequired):
        image_output(workflows, "sdxl_img2img", has_image=False)
    base = workflows["sdxl_base"]
    alone = base.config.model_copy(update={"image_variant": None})
    plain = {"plain": Workflow(config=alone, template=base.template, source=base.source)}
    with pytest.raises(ImageNotAccepted):
        image_output(plain, "plain", has_image=True)


def test_inject_image_names_the_upload_in_a_copy() -> None:
    wf = load_workflows(WORKFLOWS)["sdxl_img2img"]
    slot = wf.config.image
    assert slot is not None
    graph = inject_image(wf.template, slot, "atelier/atelier-r-abc.png")
    assert graph[slot.node]["inputs"]["image"] == "atelier/atelier-r-abc.png"
    assert wf.template[slot.node]["inputs"]["image"] == "example.png"
