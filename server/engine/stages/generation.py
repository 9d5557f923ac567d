"""Stage 4: render the final prompt with the output config's ComfyUI workflow.

The run's own copy of the template gets the prompt, seed, size and the interception's LoRAs
(those the instance lacks are skipped with a warning the student sees). The image comes from
this prompt's own history, saved into this run's folder, never "the newest file".
The instance is the least-loaded usable one that has the graph's model files; if it crashes
mid-render (marked down by its health checks, or the prompt is lost), `failover` resubmits the
prompt once on another instance, with the LoRAs that one lists.

A picture the disk refuses (full, read-only `data_dir`) is held in memory and served from there
(`server.engine.media`); the stage's text then tells the student that the server's disk is full.
One that memory cannot hold either fails the run (`disk_full`), never the image server: it did
its work, so its health and breaker do not hear of it.

At the levels `vision_check_levels` names, the finished pictures are held back until a vision
model has passed them (`stages.vision`: the stage's `checking` state), and previews go out
only as a coarse mosaic (`server.engine.preview_coarse`).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.engine.backends.instances import ComfyUIInstance
from server.engine.backends.kinds import COMFYUI
from server.engine.backends.routing import ImageNeeds, models_in_graph
from server.engine.comfyui import Failed, Output, Preview, Progress
from server.engine.comfyui.handle import ComfyUIRun
from server.engine.errors import BackendError, BackendUnavailable
from server.engine.media import MediaNotKept
from server.engine.preview_coarse import MIME as COARSE_MIME
from server.engine.preview_coarse import coarse_preview
from server.engine.stages import texts
from server.engine.stages.context import StageContext, StageResult
from server.engine.stages.failover import on_instance, with_failover
from server.engine.stages.input_image import input_image_on
from server.engine.stages.vision import (
    Picture,
    check_pictures,
    discard,
    picture_of,
    vision_checked,
)
from server.engine.workflows.loras import inject_loras
from server.engine.workflows.mapping import inject_parameters, resolve_values
from server.protocol import Output as OutputMessage
from server.protocol import Preview as PreviewMessage
from server.protocol import Progress as ProgressMessage
from server.protocol import RunEndCode, StageName, StageStatus

#: Pictures of a run held back for the vision check; None where the level has none.
Held = list[Picture] | None


class RenderFailed(BackendError):
    code = RunEndCode.BACKEND_EXECUTION_ERROR


class InstanceLost(BackendUnavailable):
    """The instance vanished under the render (crash, restart): worth another instance."""


class PictureNotKept(Exception):
    """Neither disk nor memory took a picture. Not a BackendError while it crosses the
    instance's bounds (its health would count it); `generation` turns it into one."""

    def __init__(self, instance: str, size: int) -> None:
        super().__init__(f"a picture of {size} bytes: the disk refused it, memory is full")
        self.instance = instance


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


@dataclass(frozen=True, slots=True)
class RunGraph:
    """The run's graph for one instance, the values it was built with, the LoRAs applied and
    the warnings the student sees (about LoRAs the instance lacks)."""

    graph: dict[str, Any]
    values: dict[str, Any]
    loras: tuple[str, ...]
    warnings: tuple[str, ...]


def build_graph(
    ctx: StageContext, base: tuple[dict[str, Any], dict[str, Any]], available: frozenset[str] | None
) -> RunGraph:
    """`base_graph`'s graph (not changed: LoRA injection copies it) with the LoRAs of
    `available`: what the instance lists (maybe nothing); None when that is unknown, which
    skips every LoRA rather than risk ComfyUI rejecting the graph.
    """
    graph, values = base
    interception = ctx.services.catalog.interceptions[ctx.run.inputs.interception]
    injected = inject_loras(graph, interception.lora_specs(), available=available)
    return RunGraph(injected.graph, values, injected.applied, injected.warnings)


def image_needs(ctx: StageContext, graph: dict[str, Any]) -> ImageNeeds:
    """The model files the run's graph loads and the LoRAs its interception asks for."""
    interception = ctx.services.catalog.interceptions[ctx.run.inputs.interception]
    loras = frozenset(spec.name for spec in interception.lora_specs())
    return ImageNeeds(models=models_in_graph(graph), loras=loras)


async def generation(ctx: StageContext) -> StageResult:
    detail: dict[str, Any] = {}
    base = base_graph(ctx)  # once per run, whichever instance renders it
    held: Held = [] if vision_checked(ctx) else None

    async def attempt(instance: ComfyUIInstance, retrying: bool) -> None:
        graph, found = await prepare(ctx, instance, base)
        if retrying:  # the stage was announced with the first instance's seed and size
            detail.update(loras=found["loras"], warnings=found["warnings"])
        else:
            detail.update(found)
            ctx.run.stage_event(StageName.GENERATION, StageStatus.STARTED, detail=detail)
        if held is not None:
            held.clear()  # a retry renders its pictures anew
        await render_on(ctx, instance, graph, held)

    needs = image_needs(ctx, base[0])
    stage = StageName.GENERATION
    try:
        await with_failover(ctx, COMFYUI, needs, stage, attempt, retry_event="generation_retry")
    except PictureNotKept as exc:
        raise MediaNotKept(str(exc), backend=COMFYUI.kind, instance=exc.instance) from None
    if held is not None:
        await release_checked(ctx, held)
    return StageResult(detail=detail, text=disk_note(ctx))


async def release_checked(ctx: StageContext, held: list[Picture]) -> None:
    """Show the held pictures once the vision check has passed them; remove them if not."""
    try:
        await check_pictures(ctx, held)
    except BaseException:
        await asyncio.shield(discard(held))  # also when cancelled: a blocked picture goes
        raise
    for picture in held:
        publish(ctx, picture.path.name, picture.mime)


def publish(ctx: StageContext, name: str, mime: str) -> None:
    """The picture becomes the run's: servable under its URL, announced by `output`."""
    run = ctx.run
    url = f"/media/{run.id}/{name}"
    run.outputs.append(url)
    run.emit(OutputMessage, url=url, mime=mime, index=len(run.outputs) - 1)


def disk_note(ctx: StageContext) -> str | None:
    """What the student reads when a picture of the run is held in memory, not on disk."""
    held = ctx.services.held_media
    if any(held.get(ctx.run.id, url.rsplit("/", 1)[-1]) for url in ctx.run.outputs):
        return texts.text("disk_full", ctx.run.inputs.lang)
    return None


async def prepare(
    ctx: StageContext, instance: ComfyUIInstance, base: tuple[dict[str, Any], dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The graph for `instance` (only the LoRAs it lists) and the stage's detail."""
    await instance.ensure_capabilities()
    built = build_graph(ctx, base, instance.loras)
    detail: dict[str, Any] = {
        "seed": built.values.get("seed", ctx.run.inputs.seed),
        "width": built.values.get("width"),
        "height": built.values.get("height"),
        "output": ctx.run.inputs.output,
        "loras": list(built.loras),
        "warnings": list(built.warnings),
    }
    return built.graph, detail


async def render_on(
    ctx: StageContext, instance: ComfyUIInstance, graph: dict[str, Any], held: Held
) -> None:
    """Hold a slot of `instance`, render there, and report how it went."""
    folder = ctx.services.records.run_dir(ctx.run.id)

    async def work() -> None:
        await unless_down(instance, render(ctx, instance, graph, folder, held))

    limit = ctx.config.generation_timeout
    what = ctx.run.inputs.output
    await on_instance(ctx, instance, StageName.GENERATION, what, limit, work)


async def render(
    ctx: StageContext,
    instance: ComfyUIInstance,
    graph: dict[str, Any],
    folder: Path,
    held: Held,
) -> None:
    writer = ctx.services.media_writer
    async with (
        input_image_on(ctx, instance, graph) as graph,  # in the slot, on this instance
        instance.client.run(graph, folder, writer) as job,
    ):
        await follow(ctx, job, instance.name, held)


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
        backend=instance.kind,
        instance=instance.name,
    )


async def follow(ctx: StageContext, job: ComfyUIRun, instance: str, held: Held) -> None:
    """Turn the job's events into the run's progress, previews and outputs (or, where the
    pictures are checked, into coarse previews and pictures held back for the check)."""
    run = ctx.run
    async for event in job.events():
        if isinstance(event, Progress):
            run.emit(ProgressMessage, value=event.value, max=event.max)
        elif isinstance(event, Preview):
            await preview(ctx, event, coarse=held is not None)
        elif isinstance(event, Output):
            for path in event.paths:
                if event.unsaved is not None:
                    await hold(ctx, instance, path.name, event.unsaved, event.mime)
                if held is None:
                    publish(ctx, path.name, event.mime)
                else:
                    held.append(await picture_of(path, event.mime, event.unsaved))
        elif isinstance(event, Failed):
            kind = InstanceLost if event.retryable else RenderFailed
            raise kind(event.message, backend=COMFYUI.kind, instance=instance)


async def preview(ctx: StageContext, event: Preview, *, coarse: bool) -> None:
    """Send a preview: as it came, or where pictures are checked only as a coarse mosaic (a
    preview that does not decode is then not sent at all)."""
    image, mime = event.image, event.mime
    if coarse:
        mosaic = await asyncio.to_thread(coarse_preview, image)  # decoding: off the loop
        if mosaic is None:
            return
        image, mime = mosaic, COARSE_MIME
    ctx.run.emit(PreviewMessage, mime=mime, data=base64.b64encode(image).decode())


async def hold(ctx: StageContext, instance: str, name: str, data: bytes, mime: str) -> None:
    """Keep a picture the disk refused in memory, for its media URL, with whose it is."""
    run_id = ctx.run.id
    facts = await ctx.services.records.media_of(run_id)
    if not ctx.services.held_media.hold(run_id, name, data, mime, facts):
        raise PictureNotKept(instance, len(data))
