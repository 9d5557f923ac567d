"""The simulator's node catalogue: the classes our workflows and the transcripts use, in
`/object_info` shape, built from the model lists the simulator was given."""

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
    diffusion_models: tuple[str, ...] = ("sd3.5_large.safetensors", "tiny-sd15-random.safetensors")
    text_encoders: tuple[str, ...] = (
        "clip_l.safetensors",
        "clip_g.safetensors",
        "t5xxl_fp8_e4m3fn.safetensors",
        "clip-l-random.safetensors",
    )
    vae: tuple[str, ...] = ("sd35_vae.safetensors", "taesd")
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


def _int(default: int, lo: int, hi: int, step: int | None = 1) -> list[Any]:
    spec: dict[str, Any] = {"default": default, "min": lo, "max": hi}
    if step is not None:
        spec["step"] = step
    return ["INT", spec]


def _float(default: float, lo: float, hi: float) -> list[Any]:
    return ["FLOAT", {"default": default, "min": lo, "max": hi, "step": 0.01}]


def _combo(options: tuple[str, ...] | list[str], tooltip: str | None = None) -> list[Any]:
    """A classic combo; an empty model folder gives `[[], {...}]`, as a fresh ComfyUI lists it."""
    return [list(options), {"tooltip": tooltip} if tooltip else {}]


def build_catalog(models: ModelFiles) -> dict[str, NodeDef]:
    image = ["IMAGE", {}]
    size = _int(512, 1, 16384)
    nodes = [
        NodeDef(
            "EmptyImage",
            {
                "width": size,
                "height": size,
                "batch_size": _int(1, 1, 4096, None),
                "color": [
                    "INT",
                    {"default": 0, "min": 0, "max": 16777215, "step": 1, "display": "color"},
                ],
            },
            ("IMAGE",),
            "image",
        ),
        NodeDef("ImageInvert", {"image": image}, ("IMAGE",), "image"),
        NodeDef(
            "ImageBlur",
            {"image": image, "blur_radius": _int(1, 1, 31), "sigma": _float(1.0, 0.1, 10.0)},
            ("IMAGE",),
            "image/postprocessing",
        ),
        NodeDef(
            "ImageAddNoise",
            {"image": image, "seed": _int(0, 0, SEED_MAX, None), "strength": _float(0.5, 0.0, 1.0)},
            ("IMAGE",),
            "image",
        ),
        NodeDef(
            "ImageScale",
            {
                "image": image,
                "upscale_method": _combo(UPSCALE_METHODS),
                "width": _int(512, 0, 16384),
                "height": _int(512, 0, 16384),
                "crop": _combo(["disabled", "center"]),
            },
            ("IMAGE",),
            "image/upscaling",
        ),
        NodeDef(
            "ImageToMask",
            {"image": image, "channel": _combo(["red", "green", "blue", "alpha"])},
            ("MASK",),
            "mask",
        ),
        NodeDef(
            "LoadImage",
            {"image": [["example.png"], {"image_upload": True}]},
            ("IMAGE", "MASK"),
            "image",
            display="Load Image",
        ),
        NodeDef(
            "SaveImage",
            {
                "images": ["IMAGE", {"tooltip": "The images to save."}],
                "filename_prefix": ["STRING", {"default": "ComfyUI"}],
            },
            (),
            "image",
            output_node=True,
        ),
        NodeDef("PreviewImage", {"images": image}, (), "image", output_node=True),
        NodeDef("SaveImageWebsocket", {"images": image}, (), "api node/image", output_node=True),
        NodeDef(
            "UpscaleModelLoader",
            {
                "model_name": [
                    "COMBO",
                    {"multiselect": False, "options": list(models.upscale_models)},
                ]
            },
            ("UPSCALE_MODEL",),
            "loaders",
        ),
        NodeDef(
            "ImageUpscaleWithModel",
            {"upscale_model": ["UPSCALE_MODEL", {}], "image": image},
            ("IMAGE",),
            "image/upscaling",
        ),
        NodeDef(
            "CheckpointLoaderSimple",
            {"ckpt_name": _combo(models.checkpoints, CKPT_TOOLTIP)},
            ("MODEL", "CLIP", "VAE"),
            "loaders",
        ),
        NodeDef(
            "UNETLoader",
            {
                "unet_name": _combo(models.diffusion_models),
                "weight_dtype": _combo(["default", "fp8_e4m3fn", "fp8_e5m2"]),
            },
            ("MODEL",),
            "advanced/loaders",
        ),
        NodeDef(
            "CLIPLoader",
            {
                "clip_name": _combo(models.text_encoders),
                "type": _combo(["stable_diffusion", "sd3", "flux"]),
            },
            ("CLIP",),
            "advanced/loaders",
            optional={"device": _combo(["default", "cpu"])},
        ),
        NodeDef(
            "DualCLIPLoader",
            {
                "clip_name1": _combo(models.text_encoders),
                "clip_name2": _combo(models.text_encoders),
                "type": _combo(["sdxl", "sd3", "flux"]),
            },
            ("CLIP",),
            "advanced/loaders",
        ),
        NodeDef(
            "TripleCLIPLoader",
            {
                "clip_name1": _combo(models.text_encoders),
                "clip_name2": _combo(models.text_encoders),
                "clip_name3": _combo(models.text_encoders),
            },
            ("CLIP",),
            "advanced/loaders",
        ),
        NodeDef("VAELoader", {"vae_name": _combo(models.vae)}, ("VAE",), "loaders"),
        NodeDef(
            "LoraLoader",
            {
                "model": ["MODEL", {}],
                "clip": ["CLIP", {}],
                "lora_name": _combo(models.loras, "The name of the LoRA."),
                "strength_model": _float(1.0, -100.0, 100.0),
                "strength_clip": _float(1.0, -100.0, 100.0),
            },
            ("MODEL", "CLIP"),
            "loaders",
        ),
        NodeDef(
            "LoraLoaderModelOnly",
            {
                "model": ["MODEL", {}],
                "lora_name": _combo(models.loras),
                "strength_model": _float(1.0, -100.0, 100.0),
            },
            ("MODEL",),
            "loaders",
        ),
        NodeDef(
            "CLIPTextEncode",
            {"text": ["STRING", {"multiline": True}], "clip": ["CLIP", {}]},
            ("CONDITIONING",),
            "conditioning",
        ),
        NodeDef(
            "EmptyLatentImage",
            {
                "width": _int(512, 16, 16384, 8),
                "height": _int(512, 16, 16384, 8),
                "batch_size": _int(1, 1, 4096, None),
            },
            ("LATENT",),
            "latent",
        ),
        NodeDef(
            "EmptySD3LatentImage",
            {
                "width": _int(1024, 16, 16384, 16),
                "height": _int(1024, 16, 16384, 16),
                "batch_size": _int(1, 1, 4096, None),
            },
            ("LATENT",),
            "latent/sd3",
        ),
        NodeDef(
            "ModelSamplingSD3",
            {"model": ["MODEL", {}], "shift": _float(3.0, 0.0, 100.0)},
            ("MODEL",),
            "advanced/model",
        ),
        NodeDef(
            "KSampler",
            {
                "model": ["MODEL", {}],
                "seed": _int(0, 0, SEED_MAX, None),
                "steps": _int(20, 1, 10000, None),
                "cfg": _float(8.0, 0.0, 100.0),
                "sampler_name": _combo(SAMPLERS),
                "scheduler": _combo(SCHEDULERS),
                "positive": ["CONDITIONING", {}],
                "negative": ["CONDITIONING", {}],
                "latent_image": ["LATENT", {}],
                "denoise": _float(1.0, 0.0, 1.0),
            },
            ("LATENT",),
            "sampling",
        ),
        NodeDef("VAEDecode", {"samples": ["LATENT", {}], "vae": ["VAE", {}]}, ("IMAGE",), "latent"),
    ]
    return {node.name: node for node in nodes}


def is_value_type(spec: list[Any]) -> bool:
    """True for literal inputs (INT, FLOAT, STRING, BOOLEAN, combos); false for links."""
    kind = spec[0]
    return isinstance(kind, list) or kind in ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")
