"""What each simulated node does when it runs: its progress ticks, the images it saves, its faults.

A runner returns the node's ui output (`executed` message and history) or None. Class types
without a runner finish at once with no output.
"""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from server.harness.comfyui_sim.blend import blended_png, input_picture, picture_size
from server.harness.comfyui_sim.png import gradient_png
from server.harness.vision_marker import marks

if TYPE_CHECKING:
    from server.harness.comfyui_sim.executor import _Run


class NodeFailed(Exception):
    def __init__(self, node_id: str, exc_type: str, message: str) -> None:
        self.node_id, self.exc_type, self.message = node_id, exc_type, message


NodeRunner = Callable[["_Run", str, dict[str, Any]], Awaitable[dict[str, Any] | None]]


def runner_for(class_type: str) -> NodeRunner:
    return _NODE_RUNNERS.get(class_type, _instant)


def image_key(graph: dict[str, Any]) -> str:
    """What makes two images differ: the graph's seeds and texts."""
    parts = [
        str(n["inputs"].get(k))
        for n in graph.values()
        for k in ("seed", "text")
        if k in n.get("inputs", {})
    ]
    return "|".join(parts)


def image_size(
    graph: dict[str, Any], cap: int, fallback: tuple[int, int] = (64, 64)
) -> tuple[int, int]:
    for node in graph.values():
        inputs = node.get("inputs", {})
        if isinstance(inputs.get("width"), int) and isinstance(inputs.get("height"), int):
            return min(inputs["width"], cap), min(inputs["height"], cap)
    return fallback


def save_image(run: _Run, folder: str, prefix: str, kind: str) -> dict[str, Any]:
    subfolder, _, name = prefix.rpartition("/")
    target = run.ex.root / folder / subfolder
    target.mkdir(parents=True, exist_ok=True)
    counter = 1 + sum(1 for p in target.glob(f"{name}_*_.png"))
    filename = f"{name}_{counter:05}_.png"
    # The vision mode's marker (`server.harness.vision_marker`) rides along as a text chunk.
    meta = {"prompt": orjson.dumps(run.graph).decode(), **marks(run.graph)}
    (target / filename).write_bytes(_picture(run, meta))
    return {"images": [{"filename": filename, "subfolder": subfolder, "type": kind}]}


def _picture(run: _Run, meta: dict[str, str]) -> bytes:
    """The seeded gradient; with the input picture blended in when the graph loads one."""
    cap, key = run.ex.config.max_image_side, image_key(run.graph)
    source = input_picture(run.graph, run.ex.root / "input")
    if source is None:
        width, height = image_size(run.graph, cap)
        return gradient_png(width, height, key, meta)
    width, height = image_size(run.graph, cap, picture_size(source, cap))
    return blended_png(width, height, key, source, meta)


async def _instant(run: _Run, nid: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    await asyncio.sleep(0)
    return None


async def _slow(run: _Run, nid: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    await run.ex.work()
    await run.ex.after_work()
    return None


async def _sampler(run: _Run, nid: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    steps = run.ex.config.steps or int(inputs.get("steps", 20))
    await run.ticks(nid, steps, preview=True)
    return None


async def _upscale(run: _Run, nid: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    await run.ticks(nid, run.ex.config.tiles)
    return None


async def _upscale_loader(run: _Run, nid: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    if inputs.get("model_name") == "broken.pth":
        raise NodeFailed(nid, "IndexError", "pop from empty list\n")
    return None


async def _ws_save(run: _Run, nid: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    batch = next(
        (
            n["inputs"].get("batch_size")
            for n in run.graph.values()
            if isinstance(n.get("inputs", {}).get("batch_size"), int)
        ),
        1,
    )
    await run.ticks(nid, int(batch), start=0, preview=True)
    return None


async def _save(run: _Run, nid: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    return save_image(run, "output", str(inputs.get("filename_prefix", "ComfyUI")), "output")


async def _preview_image(run: _Run, nid: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    tag = "".join(random.choices(string.ascii_lowercase, k=5))
    return save_image(run, "temp", f"ComfyUI_temp_{tag}", "temp")


_NODE_RUNNERS: dict[str, NodeRunner] = {
    "KSampler": _sampler,
    "ImageUpscaleWithModel": _upscale,
    "UpscaleModelLoader": _upscale_loader,
    "ImageBlur": _slow,
    "SaveImageWebsocket": _ws_save,
    "SaveImage": _save,
    "PreviewImage": _preview_image,
}
