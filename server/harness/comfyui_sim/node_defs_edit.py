"""Nodes of image-to-image and editing graphs (`workflows/comfyui/*_img2img.json`,
`flux_kontext_edit.json`), as ComfyUI 0.3.64 lists them at `/object_info`."""

from __future__ import annotations

from server.harness.comfyui_sim.catalog import NodeDef


def edit_nodes() -> list[NodeDef]:
    """VAE encoding of a picture and the FLUX Kontext nodes (reference latent, guidance)."""
    conditioning = ["CONDITIONING", {}]
    guidance = ["FLOAT", {"default": 3.5, "min": 0.0, "max": 100.0, "step": 0.1}]
    return [
        NodeDef("VAEEncode", {"pixels": ["IMAGE", {}], "vae": ["VAE", {}]}, ("LATENT",), "latent"),
        NodeDef(
            "FluxKontextImageScale",
            {"image": ["IMAGE", {}]},
            ("IMAGE",),
            "advanced/conditioning/flux",
        ),
        NodeDef(
            "ReferenceLatent",
            {"conditioning": conditioning},
            ("CONDITIONING",),
            "advanced/conditioning/edit_models",
            optional={"latent": ["LATENT", {}]},
        ),
        NodeDef(
            "FluxGuidance",
            {"conditioning": conditioning, "guidance": guidance},
            ("CONDITIONING",),
            "advanced/conditioning/flux",
        ),
        NodeDef(
            "ConditioningZeroOut",
            {"conditioning": conditioning},
            ("CONDITIONING",),
            "advanced/conditioning",
        ),
    ]
