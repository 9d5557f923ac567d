"""`python -m server` as its own process: start-up errors in one line, clean start and stop."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

from aiohttp import ClientError, ClientSession

ROOT = Path(__file__).resolve().parents[2]


def server_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env.update(values)
    return env


async def run_server(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_bad_setting_stops_start_up_with_one_line() -> None:
    proc = await run_server(server_env(ATELIER_RESUME_GRACE="soon"))
    async with asyncio.timeout(30):
        _, err = await proc.communicate()
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("atelier: invalid setting ATELIER_RESUME_GRACE (resume_grace):")


async def test_broken_catalog_file_stops_start_up_naming_file_and_field(tmp_path: Path) -> None:
    workflows = tmp_path / "workflows"
    shutil.copytree(ROOT / "workflows", workflows)
    config = workflows / "interception" / "bauhaus.json"
    config.write_text(config.read_text().replace('"color"', '"colour"'))
    proc = await run_server(server_env(ATELIER_WORKFLOWS_DIR=str(workflows)))
    async with asyncio.timeout(30):
        _, err = await proc.communicate()
    assert proc.returncode == 2
    [line] = err.decode().strip().splitlines()
    assert "interception/bauhaus.json" in line
    assert "colour" in line


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_server_starts_in_demo_mode_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = await run_server(server_env(ATELIER_DATA_DIR=str(tmp_path)), "--port", str(port))
    try:
        async with ClientSession() as http, asyncio.timeout(30):
            while True:
                try:
                    ready = await http.get(f"http://127.0.0.1:{port}/readyz")
                    if ready.status == 200:
                        break
                except ClientError:
                    await asyncio.sleep(0.05)  # not listening yet: start-up is still running
            catalog = await http.get(f"http://127.0.0.1:{port}/api/catalog?lang=en")
            assert catalog.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            out, _ = await proc.communicate()
    assert proc.returncode == 0
    assert b"demo_backends" in out


async def test_a_port_in_use_stops_start_up_with_one_sentence_naming_the_setting(
    tmp_path: Path,
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = int(holder.getsockname()[1])
        env = server_env(ATELIER_DATA_DIR=str(tmp_path), ATELIER_HOST="127.0.0.1")
        proc = await run_server(env, "--port", str(port))
        async with asyncio.timeout(30):
            _, err = await proc.communicate()
    assert proc.returncode == 2
    [line] = err.decode().strip().splitlines()  # one sentence, no traceback
    assert line.startswith(f"atelier: port {port} on 127.0.0.1 is already in use")
    assert line.endswith("--port or ATELIER_PORT")
