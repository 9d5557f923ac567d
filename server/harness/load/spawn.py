"""`--spawn`: start the server and its simulators as separate processes for one load run.

Each simulator is its own process, so the server shares the machine with them the way it
shares a GPU box with real backends. Server limits are raised to fit the planned load.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class SpawnPlan:
    tokens_per_second: float = 0.0  # 0: as fast as the simulator can
    first_token_delay: float = 0.0
    llm_slots: int = 8
    step_time: float = 0.01
    steps: int = 4
    comfyui_instances: int = 1
    sessions: int = 10
    runs_per_session: int = 2
    safety_level: str = "kids"
    #: Which LLM server the simulators play (`LLM_MODES`), and how many of them.
    llm_mode: str = "ollama"
    llm_instances: int = 1
    #: Server health settings (None: the server's defaults).
    health_interval: float | None = None
    health_timeout: float | None = None
    #: The spawned server's `monitor_token` (the load reads /metrics with it).
    monitor_token: str | None = None


#: Each LLM mode: the simulator, and the flags that give it that real server's habits.
LLM_MODES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ollama": ("ollama", ()),
    # Closes the keep-alive connection ~20 ms after each streamed answer (7-50 ms observed).
    "llama-server": ("openai", ("--close-after-stream", "0.02")),
    # Answers /v1/models only when a generation slot is free, and (its default) cuts the
    # answer being streamed short while another request waits.
    "llama-cpp-python": (
        "openai",
        ("--flavor", "llama-cpp-python", "--models-wait-for-generation", "--interrupt-requests"),
    ),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def _harness(*args: str) -> list[str]:
    return [sys.executable, "-m", "server.harness", *args]


def llm_command(plan: SpawnPlan, port: int) -> list[str]:
    kind, habits = LLM_MODES[plan.llm_mode]
    options = {
        "--port": port,
        "--tokens-per-second": plan.tokens_per_second,
        "--first-token-delay": plan.first_token_delay,
        "--max-parallel": plan.llm_slots,
        "--max-queue": 100_000,
    }
    flags = [str(part) for pair in options.items() for part in pair]
    return _harness(kind, "--accept-any-model", *flags, *habits)


def server_env(
    plan: SpawnPlan, port: int, llm: list[int], comfyui: list[int], data: Path
) -> dict[str, str]:
    runs = plan.sessions * plan.runs_per_session
    dialect = LLM_MODES[plan.llm_mode][0]
    llm_backends = [
        {
            "name": f"sim-llm-{i}",
            "url": f"http://127.0.0.1:{p}",
            "slots": plan.llm_slots,
            "dialect": dialect,
        }
        for i, p in enumerate(llm)
    ]
    comfy = [
        {"name": f"sim-comfyui-{i}", "url": f"http://127.0.0.1:{p}"} for i, p in enumerate(comfyui)
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env |= {
        "ATELIER_PORT": str(port),
        "ATELIER_DATA_DIR": str(data),
        "ATELIER_LOG_LEVEL": "warning",
        "ATELIER_LOG_FORMAT": "json",
        "ATELIER_LLM": orjson.dumps(llm_backends).decode(),
        "ATELIER_COMFYUI": orjson.dumps(comfy).decode(),
        "ATELIER_SAFETY_LEVEL": plan.safety_level,
        "ATELIER_MAX_SESSIONS": str(max(20_000, plan.sessions * 2)),
        # Every simulated student connects from 127.0.0.1 without a cookie and names an
        # address of its own (`driver.student_address`): runs count per address (issue 15).
        "ATELIER_TRUSTED_PROXIES": '["127.0.0.1"]',
        "ATELIER_MAX_SESSIONS_PER_ADDRESS": str(max(20_000, plan.sessions * 2)),
        # and every socket is a connection of that address (the open-file limit holds these).
        "ATELIER_MAX_CONNECTIONS": str(max(16_384, plan.sessions + 1000)),
        "ATELIER_MAX_CONNECTIONS_PER_ADDRESS": str(max(4096, plan.sessions + 1000)),
        "ATELIER_MAX_WAITING_RUNS": str(min(100_000, max(500, runs * 2))),
        "ATELIER_MAX_RUNS_IN_FLIGHT": str(min(100, max(2, plan.runs_per_session))),
        "ATELIER_MAX_QUEUED_RUNS": str(min(1000, max(8, plan.runs_per_session))),
        "ATELIER_MESSAGES_PER_SECOND": "1000",
        "ATELIER_MESSAGE_BURST": "1000",
        "ATELIER_OUTBOX_LIMIT": "100000",
    }
    if plan.monitor_token is not None:
        env["ATELIER_MONITOR_TOKEN"] = plan.monitor_token
    if plan.health_interval is not None:
        env["ATELIER_HEALTH_INTERVAL"] = str(plan.health_interval)
    if plan.health_timeout is not None:
        env["ATELIER_HEALTH_TIMEOUT"] = str(plan.health_timeout)
    return env


@contextlib.contextmanager
def spawned(plan: SpawnPlan) -> Iterator[str]:
    """Start simulators and server; yield the server's ws:// URL; stop them all."""
    processes: list[subprocess.Popen[bytes]] = []
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in `finally`, after the processes
    try:
        llm = [free_port() for _ in range(plan.llm_instances)]
        for port in llm:
            processes.append(_start(llm_command(plan, port), port, log))
        comfyui = []
        for _ in range(plan.comfyui_instances):
            port = free_port()
            processes.append(
                _start(
                    _harness(
                        "comfyui",
                        "--port",
                        str(port),
                        "--step-time",
                        str(plan.step_time),
                        "--steps",
                        str(plan.steps),
                    ),
                    port,
                    log,
                )
            )
            comfyui.append(port)
        port = free_port()
        data = Path(tempfile.mkdtemp(prefix="atelier-load-"))
        env = server_env(plan, port, llm, comfyui, data)
        processes.append(_start([sys.executable, "-m", "server"], port, log, env))
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def _start(
    command: list[str], port: int, log: IO[bytes], env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_for_port(port, process)
    except RuntimeError:
        process.kill()
        raise
    return process
