"""The simulator's image-to-image: a picture saved by a graph that loads an input image shows it.

ComfyUI renders an img2img graph from the student's picture; the simulator cannot paint, so it
blends the picture `LoadImage` names (from its `input/` folder) over its usual seeded gradient,
`INPUT_WEIGHT` of it, so a test (or a child in demo mode) can tell the result came from the
input: its colours and shapes stay visible.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from server.harness.comfyui_sim.png import encode_png, gradient_rgb

#: How much of the input picture shows in the output (the rest is the seeded gradient).
INPUT_WEIGHT = 0.7


def input_picture(graph: dict[str, Any], input_dir: Path) -> Path | None:
    """The file the graph's first `LoadImage` names, if it is inside `input_dir`."""
    base = input_dir.resolve()
    for node in graph.values():
        name = node.get("inputs", {}).get("image")
        if node.get("class_type") != "LoadImage" or not isinstance(name, str):
            continue
        path = (base / name).resolve()
        if base in path.parents and path.is_file():
            return path
    return None


def picture_size(path: Path, cap: int) -> tuple[int, int]:
    """The input's size within `cap` on its longer side (an edit graph keeps the picture's size)."""
    with Image.open(path) as image:
        width, height = image.size
    scale = min(1.0, cap / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def blended_png(
    width: int, height: int, key: str, source: Path, text: dict[str, str] | None = None
) -> bytes:
    """The seeded gradient with `source` blended in, fitted to `width` x `height`."""
    base = Image.frombytes("RGB", (width, height), gradient_rgb(width, height, key))
    with Image.open(io.BytesIO(source.read_bytes())) as opened:
        picture = opened.convert("RGB").resize((width, height))
    mixed = Image.blend(base, picture, INPUT_WEIGHT)
    return encode_png(width, height, mixed.tobytes(), text)
