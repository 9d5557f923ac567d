"""What operators read about the backends, pinned field by field: `/api/status`, `/readyz` and
the backend lines of `/metrics`, for a healthy LLM server, one that is down but startable and a
healthy ComfyUI, over a real port."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from tests.backends_support import StartAtelier, free_port
from tests.conftest import MONITOR_HEADERS

pytest_plugins = ["tests.backends_support"]


def row(kind: str, name: str, state: str, **fields: Any) -> dict[str, Any]:
    """A status row as `/api/status` serves it, with the fields a test does not vary."""
    base: dict[str, Any] = {
        "kind": kind,
        "instance": name,
        "pool": f"{kind}:{name}",
        "state": state,
        "message": None,
        "breaker": "closed",
        "entered": {state: 1},
        "slots": 1,
        "startable": False,
        "starting": False,
        "starts": 0,
        "eta": None,
    }
    return {**base, **fields, "running": 0, "waiting": 0}


async def three_backends(start_atelier: StartAtelier, ollama: str, comfyui: str) -> TestServer:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    return await start_atelier(
        llm=[
            LLMBackendConfig(name="gpu1", url=ollama, slots=2),
            LLMBackendConfig(name="lazy", url=down, start_command=("ollama", "serve")),
        ],
        comfyui=[ComfyUIBackendConfig(name="img", url=comfyui)],
    )


async def get(server: TestServer, path: str) -> tuple[int, str]:
    url = server.make_url(path)
    async with ClientSession() as http, http.get(url, headers=MONITOR_HEADERS) as response:
        return response.status, await response.text()


async def test_api_status_serves_every_instance_in_configured_order(
    start_atelier: StartAtelier, ollama_sim: str, comfyui_sim: str
) -> None:
    server = await three_backends(start_atelier, ollama_sim, comfyui_sim)
    url = server.make_url("/api/status")
    async with ClientSession() as http, http.get(url, headers=MONITOR_HEADERS) as response:
        body = await response.json()
        assert response.headers["Cache-Control"] == "no-store"
    lazy = body["backends"][1]
    assert str(lazy["message"]).startswith("cannot connect to http://127.0.0.1:")
    assert body == {
        "ready": {"llm": True, "comfyui": True},
        "backends": [
            row("llm", "gpu1", "healthy", slots=2, models=["llama3.2:latest", "qwen3:4b"]),
            row("llm", "lazy", "down", message=lazy["message"], startable=True, models=[]),
            row("comfyui", "img", "healthy"),
        ],
    }


async def test_readyz_and_metrics_name_each_kind_and_instance(
    start_atelier: StartAtelier, ollama_sim: str, comfyui_sim: str
) -> None:
    server = await three_backends(start_atelier, ollama_sim, comfyui_sim)
    status, ready = await get(server, "/readyz")
    _, metrics = await get(server, "/metrics")
    assert (status, ready) == (
        200,
        '{"status": "ready", "sessions": 0, "backends": {"llm": true, "comfyui": true}}',
    )
    lines = set(metrics.splitlines())
    for kind, name, state in (("llm", "gpu1", "healthy"), ("comfyui", "img", "healthy")):
        assert (
            f'atelier_backend_state{{instance="{name}",kind="{kind}",state="{state}"}} 1.0' in lines
        )
        assert f'atelier_backend_breaker_open{{instance="{name}",kind="{kind}"}} 0.0' in lines
    assert 'atelier_backend_state{instance="lazy",kind="llm",state="down"} 1.0' in lines
    assert 'atelier_backend_starts_total{instance="lazy",kind="llm"} 0.0' in lines
    assert 'atelier_backend_transitions_total{instance="lazy",kind="llm",state="down"} 1.0' in lines
