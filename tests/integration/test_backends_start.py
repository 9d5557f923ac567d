"""Lazy start with a start command that launches a simulator process: exactly one start however
many runs ask, visible "starting" state, a start that times out, rate-limited restarts, and a
command that daemonizes: accepted with a warning, and stopped with its whole process group."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from aiohttp import ClientSession
from structlog.testing import capture_logs

from server.engine.backends.config import ComfyUIBackendConfig, LifecycleSettings, LLMBackendConfig
from server.engine.backends.health import HealthChange
from server.engine.backends.kinds import COMFYUI, LLM
from server.engine.backends.procgroup import group_alive
from server.engine.backends.registry import Backends
from server.engine.errors import BackendUnavailable
from server.protocol import BackendKind
from tests.backends_support import StartAtelier, backends_of, free_port, sim_command
from tests.llm_support import chat
from tests.pipeline_support import connected, record_of, run_done, start_run, until

pytest_plugins = ["tests.backends_support"]

#: A "server" that prints and never answers.
HANGS = "import time; print('loading', flush=True); time.sleep(60)"

CHECKOUT = Path(__file__).resolve().parents[2]

#: A start command that daemonizes: it forks the server (which stays in the command's process
#: group), writes the pids of what it leaves behind and exits 0. Modes fix the order of the
#: two events a launcher sees: `early` (and `stubborn`): the command exits before its server
#: can answer (the server waits until its parent is gone); `late`: the server answers first
#: and the command exits only when `<pids>.exit` appears. `stubborn` also leaves a helper
#: that ignores SIGTERM.
DAEMONIZES = """
import os, subprocess, sys, time
port, pids, mode = sys.argv[1], sys.argv[2], sys.argv[3]
python = sys.executable
serve = [python, "-m", "server.harness", "ollama", "--port", port, "--tokens-per-second", "0"]
if mode == "late":
    server = subprocess.Popen(serve)
else:
    wait = f"import os, sys, time\\nwhile os.getppid() == {os.getpid()}: time.sleep(0.01)\\n"
    server = subprocess.Popen([python, "-c", wait + f"os.execv({python!r}, {serve!r})"])
left = [server.pid]
if mode == "stubborn":
    ignore_term = "import signal, time; signal.signal(15, signal.SIG_IGN); time.sleep(120)"
    left.append(subprocess.Popen([sys.executable, "-c", ignore_term]).pid)
with open(pids, "w") as out:
    out.write(" ".join(map(str, left)))
while mode == "late" and not os.path.exists(pids + ".exit"):
    time.sleep(0.01)
print("server forked; exiting", flush=True)
"""


def daemonizing_llm(tmp_path: Path, mode: str = "early") -> LLMBackendConfig:
    script = tmp_path / "daemonize.py"
    script.write_text(DAEMONIZES)
    port = free_port()
    return LLMBackendConfig(
        name="forks",
        url=f"http://127.0.0.1:{port}",
        start_command=(sys.executable, str(script), str(port), str(tmp_path / "pids"), mode),
        workdir=CHECKOUT,
        log_file=tmp_path / "forks.log",
        ready_timeout=30,
    )


def daemonized_warnings(logs: Sequence[Mapping[str, object]]) -> list[Mapping[str, object]]:
    return [e for e in logs if e["event"] == "backend_daemonized"]


def left_behind(tmp_path: Path) -> list[int]:
    return [int(pid) for pid in (tmp_path / "pids").read_text().split()]


def alive(pid: int) -> bool:
    """Is `pid` a live process? A zombie (ended, not reaped by its adopter) is not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def llm_only(config: LLMBackendConfig, lifecycle: LifecycleSettings) -> Backends:
    return Backends({BackendKind.LLM: [config]}, lifecycle)


def lazy_llm(tmp_path: Path, port: int, **fields: object) -> LLMBackendConfig:
    return LLMBackendConfig(
        name="lazy",
        url=f"http://127.0.0.1:{port}",
        start_command=tuple(sim_command("ollama", port, "--tokens-per-second", "0")),
        workdir=Path(__file__).resolve().parents[2],
        log_file=tmp_path / "lazy.log",
        ready_timeout=30,
        **fields,
    )


async def test_fifty_requests_at_once_cause_exactly_one_start(tmp_path: Path) -> None:
    port = free_port()
    backends = llm_only(
        lazy_llm(tmp_path, port), LifecycleSettings(health_interval=60, log_dir=tmp_path)
    )
    changes: list[HealthChange] = []
    backends.subscribe(changes.append)
    await backends.start()
    instance = backends.instances(LLM)[0]
    launcher = instance.launcher
    assert launcher is not None
    try:
        assert instance.health.state.value == "down"
        assert backends.ready() == {"llm": True, "comfyui": False}  # startable counts as ready

        async with asyncio.timeout(30):
            chosen = await asyncio.gather(
                *(backends.acquire(LLM, "llama3.2", lambda _: 0.0) for _ in range(50))
            )

        assert {c.name for c in chosen} == {"lazy"}
        assert launcher.starts == 1
        assert [c.state.value for c in changes] == ["down", "starting", "healthy"]
        assert changes[1].eta == 30  # nothing measured yet: the ready timeout
        log = (tmp_path / "lazy.log").read_text()
        assert log.count("listening on") == 1
        result = await instance.client.complete(chat())
        assert result.text  # the started simulator serves
    finally:
        await backends.close()
    assert launcher.process is not None
    assert launcher.process.returncode is not None  # what we started, we stopped


async def test_fifty_runs_see_the_backend_starting_once_and_all_complete(
    start_atelier: StartAtelier, comfyui_sim: str, tmp_path: Path
) -> None:
    server = await start_atelier(
        llm=[lazy_llm(tmp_path, free_port())],
        comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)],
        max_runs_in_flight=50,
        max_queued_runs=0,
    )
    async with ClientSession() as http:
        ready = await http.get(server.make_url("/readyz"))
    assert ready.status == 200  # down but startable
    client = await connected(server)
    for i in range(50):
        await client.send(
            {"type": "run.start", "prompt": f"a red fox, take {i}", "interception": "bauhaus"}
        )
    accepted = [await client.expect(lambda m: m["type"] == "run.accepted") for _ in range(50)]
    for message in accepted:
        done = await run_done(client, message["run"], timeout=60)
        assert done["status"] == "completed", done

    # One session with fifty waiting runs hears of each change once.
    backend = client.of_type("backend")
    assert [(m["kind"], m["instance"], m["state"]) for m in backend] == [
        ("llm", "lazy", "starting"),
        ("llm", "lazy", "healthy"),
    ]
    assert backend[0]["eta"] == 30  # nothing measured yet: the ready timeout
    launcher = backends_of(server).instances(LLM)[0].launcher
    assert launcher is not None
    assert launcher.starts == 1
    assert (tmp_path / "lazy.log").read_text().count("listening on") == 1
    await client.close()


async def test_a_start_that_times_out_fails_the_run_and_restarts_are_rate_limited(
    start_atelier: StartAtelier, comfyui_sim: str, tmp_path: Path
) -> None:
    never_ready = LLMBackendConfig(
        name="stuck",
        url=f"http://127.0.0.1:{free_port()}",
        start_command=(sys.executable, "-c", HANGS),
        log_file=tmp_path / "stuck.log",
        ready_timeout=0.5,
        restart_min_interval=600,
    )
    server = await start_atelier(
        llm=[never_ready], comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)]
    )
    launcher = backends_of(server).instances(LLM)[0].launcher
    assert launcher is not None
    client = await connected(server)

    first = await start_run(client, "a red fox in the snow")
    done = await run_done(client, first)
    assert done["status"] == "failed"
    assert "stuck.log" not in done["reason"]  # no server paths on a student's screen
    error = record_of(server, first)["error"]
    assert "could not be started: did not become healthy within 0.5 s" in error
    assert str(tmp_path / "stuck.log") in error
    assert done["code"] == "backend_start_failed"
    states = [(m["state"], m["reason"]) for m in client.of_type("backend")]
    assert states == [("starting", "starting"), ("down", "start_failed")]
    assert launcher.process is not None
    assert launcher.process.returncode is not None  # the stuck process was killed
    assert "loading" in (tmp_path / "stuck.log").read_text()

    second = await start_run(client, "a red fox in the snow")
    done = await run_done(client, second)
    assert done["status"] == "failed"
    assert "the next start is allowed in" in record_of(server, second)["error"]
    assert launcher.starts == 1
    async with ClientSession() as http:
        ready = await http.get(server.make_url("/readyz"))
    assert ready.status == 503  # down, and not startable for a while
    await client.close()


async def test_a_command_that_cannot_run_fails_clearly(tmp_path: Path) -> None:
    config = LLMBackendConfig(
        name="typo",
        url=f"http://127.0.0.1:{free_port()}",
        start_command=(str(tmp_path / "no-such-ollama"), "serve"),
    )
    backends = llm_only(config, LifecycleSettings(health_interval=60, log_dir=tmp_path))
    await backends.start()
    try:
        with pytest.raises(BackendUnavailable, match="cannot run") as failure:
            await backends.acquire(LLM, "llama3.2", lambda _: 0.0)
        assert failure.value.code == "backend_start_failed"
        assert backends.instances(LLM)[0].health.state.value == "down"
    finally:
        await backends.close()


async def test_an_image_server_started_on_demand_renders_the_run(
    start_atelier: StartAtelier, ollama_sim: str, tmp_path: Path
) -> None:
    port = free_port()
    comfy = ComfyUIBackendConfig(
        name="lazy-img",
        url=f"http://127.0.0.1:{port}",
        start_command=tuple(sim_command("comfyui", port, "--step-time", "0.005", "--steps", "3")),
        log_file=tmp_path / "comfy.log",
        ready_timeout=30,
    )
    server = await start_atelier(
        llm=[LLMBackendConfig(name="llm", url=ollama_sim)], comfyui=[comfy]
    )
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow")
    done = await run_done(client, run, timeout=40)
    assert done["status"] == "completed", done
    assert [m["state"] for m in client.of_type("backend")] == ["starting", "healthy"]
    assert len(client.of_type("output")) == 1
    launcher = backends_of(server).instances(COMFYUI)[0].launcher
    assert launcher is not None
    assert launcher.starts == 1
    await client.close()


async def test_a_command_that_daemonizes_serves_the_run_and_stops_with_atelier(
    start_atelier: StartAtelier, comfyui_sim: str, tmp_path: Path
) -> None:
    server = await start_atelier(
        llm=[daemonizing_llm(tmp_path)], comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)]
    )
    launcher = backends_of(server).instances(LLM)[0].launcher
    assert launcher is not None
    client = await connected(server)
    with capture_logs() as logs:
        run = await start_run(client, "a red fox in the snow")
        done = await run_done(client, run, timeout=60)
    assert done["status"] == "completed", done
    assert [m["reason"] for m in client.of_type("backend")] == ["starting", None]
    [warning] = daemonized_warnings(logs)
    assert warning["log_level"] == "warning"
    assert str(warning["message"]).startswith("start_command exited but its server answers")
    assert launcher.process is not None
    assert launcher.process.returncode == 0
    group = launcher.process.pid
    [daemon] = left_behind(tmp_path)
    assert alive(daemon)

    await client.close()
    await server.close()  # Atelier's shutdown: the backends close

    assert not alive(daemon)
    assert not group_alive(group)


async def test_a_command_that_exits_after_its_server_was_seen_answering_is_noticed_too(
    tmp_path: Path,
) -> None:
    backends = llm_only(
        daemonizing_llm(tmp_path, "late"), LifecycleSettings(health_interval=60, log_dir=tmp_path)
    )
    await backends.start()
    launcher = backends.instances(LLM)[0].launcher
    assert launcher is not None
    try:
        with capture_logs() as logs:
            async with asyncio.timeout(30):
                await backends.acquire(LLM, "llama3.2", lambda _: 0.0)
            assert launcher.process is not None
            assert launcher.process.returncode is None  # still running when it was started
            (tmp_path / "pids.exit").touch()
            await until(lambda: bool(daemonized_warnings(logs)), timeout=30)
        [daemon] = left_behind(tmp_path)
        assert launcher.process.returncode == 0
        assert alive(daemon)
    finally:
        await backends.close()
    assert not alive(daemon)


async def test_what_ignores_sigterm_in_the_group_is_killed_after_the_stop_timeout(
    tmp_path: Path,
) -> None:
    backends = llm_only(
        daemonizing_llm(tmp_path, "stubborn"),
        LifecycleSettings(health_interval=60, log_dir=tmp_path, stop_timeout=0.5),
    )
    await backends.start()
    try:
        async with asyncio.timeout(30):
            await backends.acquire(LLM, "llama3.2", lambda _: 0.0)
        pids = left_behind(tmp_path)
        assert all(alive(pid) for pid in pids)
    finally:
        with capture_logs() as logs:
            await backends.close()
    assert not any(alive(pid) for pid in pids)
    assert [e["event"] for e in logs if e["log_level"] != "info"] == ["backend_stop_killed"]


async def failed_start(tmp_path: Path, code: str, ready_timeout: float) -> BackendUnavailable:
    """Start an instance whose command runs the Python `code`: how its start failed."""
    config = LLMBackendConfig(
        name="once",
        url=f"http://127.0.0.1:{free_port()}",
        start_command=(sys.executable, "-c", code),
        log_file=tmp_path / "once.log",
        ready_timeout=ready_timeout,
    )
    backends = llm_only(config, LifecycleSettings(health_interval=60, log_dir=tmp_path))
    await backends.start()
    try:
        with pytest.raises(BackendUnavailable) as failure:
            async with asyncio.timeout(30):
                await backends.acquire(LLM, "llama3.2", lambda _: 0.0)
    finally:
        await backends.close()
    return failure.value


async def test_a_command_that_exits_0_and_leaves_nothing_answering_fails_clearly(
    tmp_path: Path,
) -> None:
    failure = await failed_start(tmp_path, "print('done already')", ready_timeout=1)
    assert "exited with code 0 and its server did not answer within 1 s" in str(failure)


async def test_a_command_that_exits_with_an_error_fails_at_once(tmp_path: Path) -> None:
    # Within failed_start's 30 s, far below the ready timeout: the exit itself is noticed.
    failure = await failed_start(tmp_path, "import sys; sys.exit(3)", ready_timeout=600)
    assert "exited with code 3" in str(failure)
