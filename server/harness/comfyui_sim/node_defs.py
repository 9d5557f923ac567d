"""The node definitions the simulator serves at `/object_info`, as ComfyUI lists them."""

from __future__ import annotations

from server.harness.comfyui_sim.catalog import (
    CKPT_TOOLTIP,
    SAMPLERS,
    SCHEDULERS,
    SEED_MAX,
    UPSCALE_METHODS,
    ModelFiles,
    NodeDef,
    combo_spec,
    float_spec,
    int_spec,
)
from server.harness.comfyui_sim.node_defs_edit import edit_nodes


def build_catalog(models: ModelFiles) -> dict[str, NodeDef]:
    nodes = (*_image_nodes(), *_model_nodes(models), *edit_nodes())
    return {node.name: node for node in nodes}


def _image_nodes() -> list[NodeDef]:
    """Nodes that make, change, load and save images."""
    image = ["IMAGE", {}]
    size = int_spec(512, 1, 16384)
    return [
        NodeDef(
            "EmptyImage",
            {
                "width": size,
                "height": size,
                "batch_size": int_spec(1, 1, 4096, None),
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
            {
                "image": image,
                "blur_radius": int_spec(1, 1, 31),
                "sigma": float_spec(1.0, 0.1, 10.0),
            },
            ("IMAGE",),
            "image/postprocessing",
        ),
        NodeDef(
            "ImageAddNoise",
            {
                "image": image,
                "seed": int_spec(0, 0, SEED_MAX, None),
                "strength": float_spec(0.5, 0.0, 1.0),
            },
            ("IMAGE",),
            "image",
        ),
        NodeDef(
            "ImageScale",
            {
                "image": image,
                "upscale_method": combo_spec(UPSCALE_METHODS),
                "width": int_spec(512, 0, 16384),
                "height": int_spec(512, 0, 16384),
                "crop": combo_spec(["disabled", "center"]),
            },
            ("IMAGE",),
            "image/upscaling",
        ),
        NodeDef(
            "ImageToMask",
            {"image": image, "channel": combo_spec(["red", "green", "blue", "alpha"])},
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
    ]


def _model_nodes(models: ModelFiles) -> list[NodeDef]:
    """Loaders (their combos list `models`), conditioning, latents and the sampler."""
    image = ["IMAGE", {}]
    return [
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
            {"ckpt_name": combo_spec(models.checkpoints, CKPT_TOOLTIP)},
            ("MODEL", "CLIP", "VAE"),
            "loaders",
        ),
        NodeDef(
            "UNETLoader",
            {
                "unet_name": combo_spec(models.diffusion_models),
                "weight_dtype": combo_spec(["default", "fp8_e4m3fn", "fp8_e5m2"]),
            },
            ("MODEL",),
            "advanced/loaders",
        ),
        NodeDef(
            "CLIPLoader",
            {
                "clip_name": combo_spec(models.text_encoders),
                "type": combo_spec(["stable_diffusion", "sd3", "flux"]),
            },
            ("CLIP",),
            "advanced/loaders",
            optional={"device": combo_spec(["default", "cpu"])},
        ),
        NodeDef(
            "DualCLIPLoader",
            {
                "clip_name1": combo_spec(models.text_encoders),
                "clip_name2": combo_spec(models.text_encoders),
                "type": combo_spec(["sdxl", "sd3", "flux"]),
            },
            ("CLIP",),
            "advanced/loaders",
        ),
        NodeDef(
            "TripleCLIPLoader",
            {
                "clip_name1": combo_spec(models.text_encoders),
                "clip_name2": combo_spec(models.text_encoders),
                "clip_name3": combo_spec(models.text_encoders),
            },
            ("CLIP",),
            "advanced/loaders",
        ),
        NodeDef("VAELoader", {"vae_name": combo_spec(models.vae)}, ("VAE",), "loaders"),
        NodeDef(
            "LoraLoader",
            {
                "model": ["MODEL", {}],
                "clip": ["CLIP", {}],
                "lora_name": combo_spec(models.loras, "The name of the LoRA."),
                "strength_model": float_spec(1.0, -100.0, 100.0),
                "strength_clip": float_spec(1.0, -100.0, 100.0),
            },
            ("MODEL", "CLIP"),
            "loaders",
        ),
        NodeDef(
            "LoraLoaderModelOnly",
            {
                "model": ["MODEL", {}],
                "lora_name": combo_spec(models.loras),
                "strength_model": float_spec(1.0, -100.0, 100.0),
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
                "width": int_spec(512, 16, 16384, 8),
                "height": int_spec(512, 16, 16384, 8),
                "batch_size": int_spec(1, 1, 4096, None),
            },
            ("LATENT",),
            "latent",
        ),
        NodeDef(
            "EmptySD3LatentImage",
            {
                "width": int_spec(1024, 16, 16384, 16),
                "height": int_spec(1024, 16, 16384, 16),
                "batch_size": int_spec(1, 1, 4096, None),
            },
            ("LATENT",),
            "latent/sd3",
        ),
        NodeDef(
            "ModelSamplingSD3",
            {"model": ["MODEL", {}], "shift": float_spec(3.0, 0.0, 100.0)},
            ("MODEL",),
            "advanced/model",
        ),
        NodeDef(
            "KSampler",
            {
                "model": ["MODEL", {}],
                "seed": int_spec(0, 0, SEED_MAX, None),
                "steps": int_spec(20, 1, 10000, None),
                "cfg": float_spec(8.0, 0.0, 100.0),
                "sampler_name": combo_spec(SAMPLERS),
                "scheduler": combo_spec(SCHEDULERS),
                "positive": ["CONDITIONING", {}],
                "negative": ["CONDITIONING", {}],
                "latent_image": ["LATENT", {}],
                "denoise": float_spec(1.0, 0.0, 1.0),
            },
            ("LATENT",),
            "sampling",
        ),
        NodeDef("VAEDecode", {"samples": ["LATENT", {}], "vae": ["VAE", {}]}, ("IMAGE",), "latent"),
    ]
