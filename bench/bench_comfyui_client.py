"""Client overhead against the in-process ComfyUI simulator (step time 0): renders per second
sequentially and concurrently, events per render. Prints figures; asserts nothing.

Run: .venv/bin/python -m bench.bench_comfyui_client
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from server.engine.comfyui import ComfyUIClient, ComfyUIConfig, Finished
from server.engine.workflows import inject_parameters, load_workflows, resolve_values
from server.harness.comfyui_sim import ComfyUISimulator, ExecConfig, SimConfig

ROOT = Path(__file__).resolve().parent.parent


async def render(client: ComfyUIClient, seed: int, out: Path) -> int:
    wf = load_workflows(ROOT / "workflows")["sdxl_base"]
    values = resolve_values(
        wf.config.parameters, {"prompt": "bench", "seed": seed, "width": 512, "height": 512}
    )
    graph = inject_parameters(wf.template, wf.config.parameters, values)
    count = 0
    async with client.run(graph, out / str(seed)) as run:
        async for event in run.events():
            count += 1
            assert not isinstance(event, Finished) or event.outputs
    return count


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sim = ComfyUISimulator(
            SimConfig(execution=ExecConfig(step_time=0.0, steps=8), root=Path(tmp) / "sim")
        )
        await sim.start()
        client = ComfyUIClient(ComfyUIConfig(url=sim.url, preview_rate=1e6))
        await client.start()
        out = Path(tmp) / "out"
        try:
            await render(client, 0, out)  # warm-up
            n = 50
            start = time.perf_counter()
            events = [await render(client, i + 1, out) for i in range(n)]
            seq = time.perf_counter() - start
            print(
                f"sequential: {n} renders (8 steps, 8 previews, 512x512 PNG) in {seq:.2f}s "
                f"= {n / seq:.1f}/s, {seq / n * 1000:.1f} ms each, {events[0]} events each"
            )
            start = time.perf_counter()
            await asyncio.gather(*(render(client, 1000 + i, out) for i in range(n)))
            conc = time.perf_counter() - start
            print(f"concurrent: {n} renders queued at once in {conc:.2f}s = {n / conc:.1f}/s")
            print(f"open_responses={client.open_responses} active_jobs={client.active_jobs}")
        finally:
            await client.close()
            await sim.close()


if __name__ == "__main__":
    asyncio.run(main())
