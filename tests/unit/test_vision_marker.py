"""The simulators' vision mode: the marker in the picture decides, and nothing else."""

from __future__ import annotations

import base64

from server.harness.comfyui_sim.png import _chunk, gradient_png
from server.harness.vision_marker import (
    CHUNK_KEY,
    MARKER_WORD,
    UNSAFE_ANSWER,
    marks,
    png_text,
    vision_verdict,
)


def graph(text: str) -> dict[str, object]:
    return {"6": {"class_type": "CLIPTextEncode", "inputs": {"text": text}}}


def ollama_chat(picture: bytes) -> list[dict[str, object]]:
    return [
        {"role": "system", "content": "judge"},
        {"role": "user", "content": "x", "images": [base64.b64encode(picture).decode()]},
    ]


def test_only_a_prompt_with_the_marker_word_marks_the_picture() -> None:
    assert marks(graph(f"an {MARKER_WORD.upper()} fox")) == {CHUNK_KEY: "unsafe"}
    assert marks(graph("a fox")) == {}


def test_the_verdict_follows_the_marker() -> None:
    marked = gradient_png(4, 4, "k", marks(graph(f"{MARKER_WORD} fox")))
    plain = gradient_png(4, 4, "k", {"prompt": "{}"})
    assert vision_verdict(ollama_chat(marked)) == UNSAFE_ANSWER
    assert vision_verdict(ollama_chat(plain)) == "SAFE"
    assert vision_verdict([{"role": "user", "content": "no picture"}]) is None


def test_text_chunks_are_read_only_so_far() -> None:
    """A picture with more chunks than the bound: a marker after it is not seen."""
    png = gradient_png(2, 2, "k")
    head, rest = png[:33], png[33:]  # signature + IHDR, then the rest
    filler = b"".join(_chunk(b"tEXt", b"k\x00v") for _ in range(64))
    late = head + filler + _chunk(b"tEXt", CHUNK_KEY.encode() + b"\x00unsafe") + rest
    assert CHUNK_KEY not in png_text(late)
    # IHDR, 62 fillers, then the marker: the 64th chunk, the last one read.
    early = head + filler[: 15 * 62] + _chunk(b"tEXt", CHUNK_KEY.encode() + b"\x00unsafe") + rest
    assert png_text(early)[CHUNK_KEY] == "unsafe"


def test_garbage_is_no_picture_with_a_marker() -> None:
    assert png_text(b"GIF89a") == {}
    assert vision_verdict(ollama_chat(b"junk")) == "SAFE"
    bad = [{"role": "user", "content": "x", "images": ["%%%not base64"]}]
    assert vision_verdict(bad) == "SAFE"
