"""Stage 4: render the final prompt with the output config's ComfyUI workflow.

The run's own copy of the template gets the prompt, seed, size and the interception's LoRAs
(those the instance lacks are skipped with a warning the student sees). The image comes from
this prompt's own history, saved into this run's folder, never "the newest file".
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from server.engine.comfyui import Failed, Output, Preview, Progress
from server.engine.comfyui.client import ComfyUIRun
from server.engine.errors import BackendError, BackendTimeout
from server.engine.stages.context import StageContext, StageResult
from server.engine.workflows.loras import inject_loras
from server.engine.workflows.mapping import inject_parameters, resolve_values
from server.protocol import Output as OutputMessage
from server.protocol import Preview as PreviewMessage
from server.protocol import Progress as ProgressMessage
from server.protocol import StageName, StageStatus


class RenderFailed(BackendError):
    code = "backend_execution_error"


def build_graph(
    ctx: StageContext, available_loras: frozenset[str] | None
) -> tuple[dict[str, Any], dict[str, Any], tuple[str, ...], tuple[str, ...]]:
    """The run's graph, the values used, the LoRAs applied and the warnings."""
    run = ctx.run
    inputs = run.inputs
    workflow = ctx.services.workflows[inputs.output]
    mapping = workflow.config.parameters
    requested = {
        "prompt": run.texts.get(StageName.TRANSLATION) or inputs.prompt,
        "seed": inputs.seed,
        "width": inputs.width,
        "height": inputs.height,
    }
    values = resolve_values(mapping, requested)
    graph = inject_parameters(workflow.template, mapping, values)
    interception = ctx.services.catalog.interceptions[inputs.interception]
    injected = inject_loras(graph, interception.lora_specs(), available=available_loras)
    return injected.graph, values, injected.applied, injected.warnings


async def generation(ctx: StageContext) -> StageResult:
    run = ctx.run
    instance = ctx.services.backends.choose_comfyui(ctx.load)
    graph, values, loras, warnings = build_graph(ctx, instance.loras or None)
    detail: dict[str, Any] = {
        "seed": values.get("seed", run.inputs.seed),
        "width": values.get("width"),
        "height": values.get("height"),
        "output": run.inputs.output,
        "loras": list(loras),
        "warnings": list(warnings),
    }
    run.stage_event(StageName.GENERATION, StageStatus.STARTED, detail=detail)
    folder = ctx.services.records.run_dir(run.id)
    timeout = ctx.config.generation_timeout
    async with ctx.ticket.slot(instance.pool, StageName.GENERATION.value):
        run.models["generation"] = f"{run.inputs.output}@{instance.name}"
        try:
            async with asyncio.timeout(timeout), instance.client.run(graph, folder) as job:
                await follow(ctx, job, instance.name)
        except TimeoutError:
            raise BackendTimeout(
                f"the image server did not finish within {timeout:.0f} s",
                backend="comfyui",
                instance=instance.name,
            ) from None
    return StageResult(detail=detail)


async def follow(ctx: StageContext, job: ComfyUIRun, instance: str) -> None:
    """Turn the job's events into the run's progress, previews and outputs."""
    run = ctx.run
    async for event in job.events():
        if isinstance(event, Progress):
            run.emit(ProgressMessage, value=event.value, max=event.max)
        elif isinstance(event, Preview):
            data = base64.b64encode(event.image).decode()
            run.emit(PreviewMessage, mime=event.mime, data=data)
        elif isinstance(event, Output):
            for path in event.paths:
                url = f"/media/{run.id}/{path.name}"
                run.outputs.append(url)
                run.emit(OutputMessage, url=url, mime=event.mime, index=len(run.outputs) - 1)
        elif isinstance(event, Failed):
            raise RenderFailed(event.message, backend="comfyui", instance=instance)
