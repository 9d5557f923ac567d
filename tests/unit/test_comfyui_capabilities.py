"""What an instance's /object_info says it has: known lists, known-empty lists, unknown."""

from __future__ import annotations

from typing import Any

from server.engine.backends.routing import ImageNeeds, available_loras, has_models, missing_loras
from server.engine.comfyui.results import (
    Capabilities,
    capabilities_from_object_info,
    combo_options,
)
from tests.comfyui_support import transcript


def captured_object_info(cls: str) -> dict[str, Any]:
    """The captured `/object_info/<cls>` body of a fresh ComfyUI 0.3.64 (misc.jsonl)."""
    (line,) = (
        line
        for line in transcript("misc.jsonl")
        if line["kind"] == "http" and line["request"]["path"] == f"/object_info/{cls}"
    )
    body: dict[str, Any] = line["response"]["body"]
    return body


def test_combo_options_in_both_shapes() -> None:
    info = {
        "A": {"input": {"required": {"x": [["a", "b"], {}]}}},
        "B": {"input": {"required": {"x": ["COMBO", {"options": ["c"]}]}}},
    }
    assert combo_options(info, "A", "x") == ("a", "b")
    assert combo_options(info, "B", "x") == ("c",)
    caps = capabilities_from_object_info(
        {"LoraLoader": {"input": {"required": {"lora_name": [["s.safetensors"], {}]}}}}
    )
    assert caps.loras == ("s.safetensors",)


def test_an_empty_model_folder_as_captured_is_known_and_empty() -> None:
    # A fresh ComfyUI lists its empty `checkpoints` folder as `[[], {"tooltip": ...}]`;
    # `loras` is listed the same way (LoraLoader.lora_name).
    info = captured_object_info("CheckpointLoaderSimple")
    assert info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] == []
    assert combo_options(info, "CheckpointLoaderSimple", "ckpt_name") == ()
    assert capabilities_from_object_info(info).checkpoints == ()


def test_the_captured_v3_combo_lists_its_files() -> None:
    info = captured_object_info("UpscaleModelLoader")
    assert combo_options(info, "UpscaleModelLoader", "model_name") == (
        "broken.pth",
        "tiny-compact-x2.safetensors",
    )


def test_a_missing_class_is_known_empty_and_an_unreadable_input_is_unknown() -> None:
    info = {
        "LoraLoader": {"input": {"required": {"lora_name": ["STRING", {}]}}},
        "UNETLoader": {"input": {"optional": {}}},
    }
    assert combo_options(info, "CheckpointLoaderSimple", "ckpt_name") == ()
    assert combo_options(info, "LoraLoader", "lora_name") is None
    assert combo_options(info, "UNETLoader", "unet_name") is None
    caps = capabilities_from_object_info(info)
    assert (caps.checkpoints, caps.loras, caps.unets) == ((), None, None)


def caps(loras: tuple[str, ...] | None, checkpoints: tuple[str, ...] | None = ()) -> Capabilities:
    return Capabilities(frozenset(), checkpoints, (), loras, ())


def test_known_empty_and_unknown_loras_are_told_apart_and_both_count_as_missing() -> None:
    needs = ImageNeeds(loras=frozenset({"bauhaus.safetensors", "linocut.safetensors"}))
    assert available_loras(caps(())) == frozenset()
    assert available_loras(caps(None)) is None
    assert available_loras(None) is None
    assert available_loras(caps(("linocut.safetensors",))) == frozenset({"linocut.safetensors"})
    assert missing_loras(caps(("linocut.safetensors",)), needs) == 1
    assert missing_loras(caps(()), needs) == 2
    assert missing_loras(caps(None), needs) == 2
    assert missing_loras(None, needs) == 2


def test_model_files_count_as_present_only_while_unknown() -> None:
    needs = ImageNeeds(models=frozenset({"sdxl.safetensors"}))
    assert has_models(None, needs)
    assert has_models(caps((), checkpoints=None), needs)
    assert not has_models(caps((), checkpoints=()), needs)
    assert has_models(caps((), checkpoints=("sdxl.safetensors",)), needs)
