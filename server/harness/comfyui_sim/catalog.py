"""The simulator's node catalogue types: a node's `/object_info` shape, the model lists it is
built from, and the spec helpers; the nodes themselves are in `node_defs.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SAMPLERS = [
    "euler",
    "euler_cfg_pp",
    "euler_ancestral",
    "heun",
    "dpm_2",
    "dpmpp_2m",
    "dpmpp_2m_sde",
    "dpmpp_3m_sde",
    "ddim",
    "uni_pc",
    "lcm",
]
SCHEDULERS = [
    "simple",
    "sgm_uniform",
    "karras",
    "exponential",
    "ddim_uniform",
    "beta",
    "normal",
    "linear_quadratic",
    "kl_optimal",
]
UPSCALE_METHODS = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]
SEED_MAX = 18446744073709551615
CKPT_TOOLTIP = "The name of the checkpoint (model) to load."


@dataclass(frozen=True)
class ModelFiles:
    """What the simulated instance has in its model folders."""

    checkpoints: tuple[str, ...] = ("sd_xl_base_1.0.safetensors", "tiny-sd15-random.safetensors")
    diffusion_models: tuple[str, ...] = (
        "sd3.5_large.safetensors",
        "flux1-dev-kontext_fp8_scaled.safetensors",
        "tiny-sd15-random.safetensors",
    )
    text_encoders: tuple[str, ...] = (
        "clip_l.safetensors",
        "clip_g.safetensors",
        "t5xxl_fp8_e4m3fn.safetensors",
        "clip-l-random.safetensors",
    )
    vae: tuple[str, ...] = ("sd35_vae.safetensors", "ae.safetensors", "taesd")
    loras: tuple[str, ...] = (
        "watercolor.safetensors",
        "bauhaus.safetensors",
        "linocut.safetensors",
    )
    upscale_models: tuple[str, ...] = ("broken.pth", "tiny-compact-x2.safetensors")

    def folders(self) -> dict[str, list[str]]:
        return {
            "checkpoints": list(self.checkpoints),
            "configs": [],
            "loras": list(self.loras),
            "vae": list(self.vae),
            "text_encoders": list(self.text_encoders),
            "clip": list(self.text_encoders),
            "diffusion_models": list(self.diffusion_models),
            "unet": list(self.diffusion_models),
            "upscale_models": list(self.upscale_models),
            "embeddings": [],
            "vae_approx": ["taesd_decoder.pth"],
        }


@dataclass(frozen=True)
class NodeDef:
    name: str
    required: dict[str, list[Any]]
    outputs: tuple[str, ...]
    category: str
    output_node: bool = False
    display: str = ""
    optional: dict[str, list[Any]] = field(default_factory=dict)

    def object_info(self) -> dict[str, Any]:
        inputs: dict[str, Any] = {"required": self.required}
        order: dict[str, Any] = {"required": list(self.required)}
        if self.optional:
            inputs["optional"] = self.optional
            order["optional"] = list(self.optional)
        return {
            "input": inputs,
            "input_order": order,
            "output": list(self.outputs),
            "output_is_list": [False] * len(self.outputs),
            "output_name": list(self.outputs),
            "name": self.name,
            "display_name": self.display or self.name,
            "description": "",
            "python_module": "nodes",
            "category": self.category,
            "output_node": self.output_node,
        }


def int_spec(default: int, lo: int, hi: int, step: int | None = 1) -> list[Any]:
    spec: dict[str, Any] = {"default": default, "min": lo, "max": hi}
    if step is not None:
        spec["step"] = step
    return ["INT", spec]


def float_spec(default: float, lo: float, hi: float) -> list[Any]:
    return ["FLOAT", {"default": default, "min": lo, "max": hi, "step": 0.01}]


def combo_spec(options: tuple[str, ...] | list[str], tooltip: str | None = None) -> list[Any]:
    """A classic combo; an empty model folder gives `[[], {...}]`, as a fresh ComfyUI lists it."""
    return [list(options), {"tooltip": tooltip} if tooltip else {}]


def is_value_type(spec: list[Any]) -> bool:
    """True for literal inputs (INT, FLOAT, STRING, BOOLEAN, combos); false for links."""
    kind = spec[0]
    return isinstance(kind, list) or kind in ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")
