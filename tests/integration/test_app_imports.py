"""A server with real backends never loads the simulators: `server.harness` is demo-only.

Checked in a fresh interpreter (this one has the harness loaded by the tests): import
`server.app`, build the app, run its start-up and cleanup, then list `sys.modules`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import orjson

from tests.backends_support import free_port

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import asyncio, sys
import orjson
from aiohttp import web
from server.app import create_app
from server.settings import Settings

async def start_and_stop(settings):
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await runner.cleanup()

settings = Settings(**orjson.loads(sys.argv[1]))
asyncio.run(start_and_stop(settings))
harness = [m for m in sys.modules if m == "server.harness" or m.startswith("server.harness.")]
print(orjson.dumps(sorted(harness)).decode())
"""


async def harness_modules_loaded(tmp_path: Path, **settings: object) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    settings["data_dir"] = str(tmp_path / "data")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        PROBE,
        orjson.dumps(settings).decode(),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    modules: list[str] = orjson.loads(out.splitlines()[-1])
    return modules


async def test_a_server_with_real_backends_loads_no_simulator(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens: the backends are merely down
    modules = await harness_modules_loaded(tmp_path, llm_url=down, comfyui_url=down)
    assert modules == []


async def test_a_demo_server_loads_the_simulators(tmp_path: Path) -> None:
    """The probe's counterpart: with no backend configured it sees the harness loaded."""
    assert "server.harness.demo" in await harness_modules_loaded(tmp_path)
