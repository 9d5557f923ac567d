"""Stage 4: render the final prompt with the output config's ComfyUI workflow.

The run's own copy of the template gets the prompt, seed, size and the interception's LoRAs
(those the instance lacks are skipped with a warning the student sees). The image comes from
this prompt's own history, saved into this run's folder, never "the newest file".
The instance is the least-loaded usable one that has the graph's model files; if it crashes
mid-render (marked down by its health checks, or the prompt is lost), the prompt is
resubmitted once on another instance.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import structlog

from server.engine.backends.health import worth_retrying
from server.engine.backends.instances import ComfyUIInstance
from server.engine.backends.routing import ImageNeeds, models_in_graph
from server.engine.comfyui import Failed, Output, Preview, Progress
from server.engine.comfyui.client import ComfyUIRun
from server.engine.errors import BackendError, BackendUnavailable
from server.engine.stages.context import (
    StageContext,
    StageResult,
    StageTimeout,
    no_other_instance,
    report_outcome,
)
from server.engine.workflows.loras import inject_loras
from server.engine.workflows.mapping import inject_parameters, resolve_values
from server.protocol import Output as OutputMessage
from server.protocol import Preview as PreviewMessage
from server.protocol import Progress as ProgressMessage
from server.protocol import RunEndCode, StageName, StageStatus

log = structlog.get_logger(__name__)


class RenderFailed(BackendError):
    code = RunEndCode.BACKEND_EXECUTION_ERROR


class InstanceLost(BackendUnavailable):
    """The instance vanished under the render (crash, restart): worth another instance."""


def base_graph(ctx: StageContext) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's copy of the template with its parameters, and the values used."""
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
    return inject_parameters(workflow.template, mapping, values), values


def build_graph(
    ctx: StageContext, available_loras: frozenset[str] | None
) -> tuple[dict[str, Any], dict[str, Any], tuple[str, ...], tuple[str, ...]]:
    """The run's graph, the values used, the LoRAs applied and the warnings.

    `available_loras` is what the instance lists (maybe nothing); None when that is unknown,
    which skips every LoRA rather than risk ComfyUI rejecting the graph.
    """
    graph, values = base_graph(ctx)
    interception = ctx.services.catalog.interceptions[ctx.run.inputs.interception]
    injected = inject_loras(graph, interception.lora_specs(), available=available_loras)
    return injected.graph, values, injected.applied, injected.warnings


def image_needs(ctx: StageContext) -> ImageNeeds:
    """The model files the run's graph loads and the LoRAs its interception asks for."""
    interception = ctx.services.catalog.interceptions[ctx.run.inputs.interception]
    loras = frozenset(spec.name for spec in interception.lora_specs())
    return ImageNeeds(models=models_in_graph(base_graph(ctx)[0]), loras=loras)


async def generation(ctx: StageContext) -> StageResult:
    run = ctx.run
    backends = ctx.services.backends
    needs = image_needs(ctx)
    with ctx.services.waiting.watch("comfyui", run.session):
        instance = await backends.acquire_comfyui(needs, ctx.load)
        graph, detail = await prepare(ctx, instance)
        run.stage_event(StageName.GENERATION, StageStatus.STARTED, detail=detail)
        try:
            await render_on(ctx, instance, graph)
            return StageResult(detail=detail)
        except BackendError as exc:
            if not worth_retrying(exc):
                raise
            first = exc
        log.warning("generation_retry", run=run.id, error=str(first))
        backends.retries += 1
        try:
            other = await backends.acquire_comfyui(
                needs, ctx.load, exclude=frozenset({instance.name})
            )
        except BackendError as exc:
            raise no_other_instance(first, exc) from first
        graph, retry_detail = await prepare(ctx, other)
        detail.update(loras=retry_detail["loras"], warnings=retry_detail["warnings"])
        await render_on(ctx, other, graph)
        return StageResult(detail=detail)


async def prepare(
    ctx: StageContext, instance: ComfyUIInstance
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The graph for `instance` (only the LoRAs it lists) and the stage's detail."""
    await instance.ensure_capabilities()
    graph, values, loras, warnings = build_graph(ctx, instance.loras)
    detail: dict[str, Any] = {
        "seed": values.get("seed", ctx.run.inputs.seed),
        "width": values.get("width"),
        "height": values.get("height"),
        "output": ctx.run.inputs.output,
        "loras": list(loras),
        "warnings": list(warnings),
    }
    return graph, detail


async def render_on(ctx: StageContext, instance: ComfyUIInstance, graph: dict[str, Any]) -> None:
    """Hold a slot of `instance`, render there, and report how it went."""
    run = ctx.run
    folder = ctx.services.records.run_dir(run.id)
    timeout = ctx.config.generation_timeout
    failure: BaseException | None = None
    try:
        async with ctx.ticket.slot(instance.pool, StageName.GENERATION.value):
            run.models["generation"] = f"{run.inputs.output}@{instance.name}"
            try:
                async with asyncio.timeout(timeout):
                    await unless_down(instance, render(ctx, instance, graph, folder))
            except TimeoutError:
                raise StageTimeout(
                    backend="comfyui", instance=instance.name, limit=timeout
                ) from None
    except BaseException as exc:
        failure = exc
        raise
    finally:
        report_outcome(ctx.services.backends, instance, failure)


async def render(
    ctx: StageContext, instance: ComfyUIInstance, graph: dict[str, Any], folder: Path
) -> None:
    async with instance.client.run(graph, folder) as job:
        await follow(ctx, job, instance.name)


async def unless_down(instance: ComfyUIInstance, work: Coroutine[Any, Any, None]) -> None:
    """Run `work`, but give up on it as soon as the instance is marked down.

    ComfyUI's own client would keep polling a vanished instance for `unreachable_timeout`;
    the health checks notice a crash sooner, and the render can move elsewhere.
    """
    job = asyncio.create_task(work)
    down = asyncio.create_task(instance.health.until_down())
    try:
        await asyncio.wait({job, down}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        down.cancel()
        if not job.done():
            job.cancel()
        await asyncio.gather(job, down, return_exceptions=True)
    if not job.cancelled():
        job.result()  # its outcome, or its exception
        return
    raise InstanceLost(
        f"the image server stopped answering ({instance.health.message})",
        backend="comfyui",
        instance=instance.name,
    )


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
            kind = InstanceLost if event.retryable else RenderFailed
            raise kind(event.message, backend="comfyui", instance=instance)
