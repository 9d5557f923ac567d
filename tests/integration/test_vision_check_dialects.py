"""The vision check over both LLM dialects, the whole server on real sockets: the picture
reaches an Ollama server as `images` and an OpenAI-compatible one as an `image_url` data URL,
and each simulated vision model's verdict decides whether the picture is shown."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from server.engine.safety_verdict import VERDICT_SCHEMA
from server.harness.llm_sim import (
    OllamaSimulator,
    OpenAISimulator,
    SimModel,
    SimSettings,
    SimulatorBase,
)
from server.harness.vision_marker import MARKER_WORD, images_in, png_text
from tests.backends_support import StartAtelier
from tests.pipeline_support import connected, events_of, run_done, start_run

pytest_plugins = ["tests.backends_support"]

VISION_MODEL = "qwen2.5vl:3b"
MODELS = (SimModel("llama3.2:latest"), SimModel(VISION_MODEL))


@asynccontextmanager
async def simulator(dialect: str) -> AsyncIterator[SimulatorBase]:
    settings = SimSettings(models=MODELS, tokens_per_second=0)
    sim = OllamaSimulator(settings) if dialect == "ollama" else OpenAISimulator(settings)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


def picture_part(dialect: str, chat: dict[str, Any]) -> bytes:
    """The picture as the dialect carries it, decoded by hand (not by the simulator's code)."""
    user = chat["messages"][-1]
    if dialect == "ollama":
        [data] = user["images"]
        return base64.b64decode(data)
    text, image = user["content"]
    assert text["type"] == "text"
    assert image["type"] == "image_url"
    prefix = "data:image/png;base64,"
    assert image["image_url"]["url"].startswith(prefix)
    return base64.b64decode(image["image_url"]["url"].removeprefix(prefix))


@pytest.mark.parametrize("dialect", ["ollama", "openai"])
async def test_the_vision_verdict_decides_in_either_dialect(
    dialect: str, start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    async with simulator(dialect) as sim:
        server = await start_atelier(
            llm=[LLMBackendConfig(name="gpu", url=sim.url, dialect=dialect)],
            comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)],
            safety_level="kids",
            model_safety="llama3.2",
            model_vision=VISION_MODEL,
        )
        client = await connected(server)
        plain = await start_run(client, "a red fox in the snow")
        assert (await run_done(client, plain))["status"] == "completed"
        chat = sim.last_chat
        assert chat is not None
        assert chat["model"] == VISION_MODEL
        # The structured verdict, in the dialect's own field.
        asked = chat["format"] if dialect == "ollama" else chat["response_format"]["json_schema"]
        assert (asked if dialect == "ollama" else asked["schema"]) == VERDICT_SCHEMA
        assert png_text(picture_part(dialect, chat)).get("atelier-vision") is None
        assert [m["type"] for m in events_of(client, plain)].count("output") == 1

        marked = await start_run(client, f"an {MARKER_WORD} fox in the snow")
        done = await run_done(client, marked)
        assert done["status"] == "blocked"
        chat = sim.last_chat
        assert chat is not None
        assert png_text(picture_part(dialect, chat))["atelier-vision"] == "unsafe"
        assert images_in(chat["messages"])  # the simulator read the same picture
        assert "output" not in [m["type"] for m in events_of(client, marked)]
        await client.close()
