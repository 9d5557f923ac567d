"""Composing the pipeline at start-up: catalog, backends (real or demo), scheduler, records.

Kept apart from `server.app` so the app module stays about routes and sockets. Start-up is one
`AsyncExitStack`: each part registers its close right after it is opened, so a failure or a
cancel at any step closes exactly what was opened, in reverse order, and a finished start-up
closes the same way at shutdown. The simulators (`server.harness`) are imported only in demo
mode: a server with real backends never loads them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry

from server.engine.backends.config import LifecycleSettings
from server.engine.backends.notify import WaitingSessions
from server.engine.backends.registry import Backends
from server.engine.catalog import Catalog, SafetyLevel, load_catalog
from server.engine.classroom.hub import ClassHub
from server.engine.classroom.readiness import WarmUp
from server.engine.classroom.wall import WallFeed, publish_picture
from server.engine.media import HeldMedia
from server.engine.pipeline import Pipeline
from server.engine.records import PictureIndex, RecordStore
from server.engine.scheduler import Scheduler, SchedulerSettings
from server.engine.stages.context import PipelineConfig, Services
from server.engine.state.slots import GlobalSlots, open_slots
from server.engine.uploads.store import UploadStore
from server.engine.workflows.catalog import Workflow, load_workflows
from server.protocol import BackendKind
from server.settings import Settings

if TYPE_CHECKING:
    from server.harness.demo import DemoBackends, DemoSpeed
    from server.harness.llm_sim.common import Responder

log = structlog.get_logger(__name__)

PRUNE_INTERVAL = 3600.0


#: The demo simulators, published with the pipeline once start-up is complete (tests use them).
DEMO: web.AppKey[DemoBackends] = web.AppKey("demo")

#: Every catalog file read and validated: the configs, and the workflows by id.
Definitions = tuple[Catalog, dict[str, Workflow]]


@dataclass(frozen=True)
class DemoOptions:
    """How tests and `./run.sh` shape the in-process simulators (None: the demo's defaults)."""

    speed: DemoSpeed | None = None
    responder: Responder | None = None


@dataclass(frozen=True)
class StartedPipeline:
    """What a finished start-up built: the pipeline, and in demo mode the simulators it uses."""

    pipeline: Pipeline
    simulators: DemoBackends | None


def load_definitions(settings: Settings) -> Definitions:
    """Read and validate every catalog file; raises with the file and field named."""
    workflows = load_workflows(settings.workflows_dir)
    return load_catalog(settings.workflows_dir, set(workflows)), workflows


def pipeline_config(settings: Settings) -> PipelineConfig:
    return PipelineConfig(
        safety_level=SafetyLevel(settings.safety_level),
        model_safety=settings.model_safety,
        model_interception=settings.model_interception,
        model_translation=settings.model_translation,
        llm_stage_timeout=settings.llm_stage_timeout,
        screen_tail_chars=settings.screen_tail_chars,
        screen_hold_ms=settings.screen_hold_ms,
        generation_timeout=settings.generation_timeout,
        max_prompt_chars=settings.max_prompt_chars,
        max_meta_prompt_chars=settings.max_meta_prompt_chars,
        vision_check_levels=frozenset(SafetyLevel(v) for v in settings.vision_check_levels),
        model_vision=settings.model_vision,
        vision_max_image_bytes=settings.vision_max_image_bytes,
    )


def lifecycle_settings(settings: Settings) -> LifecycleSettings:
    return LifecycleSettings(
        health_interval=settings.health_interval,
        health_timeout=settings.health_timeout,
        breaker_failures=settings.breaker_failures,
        breaker_cooldown=settings.breaker_cooldown,
        log_dir=settings.data_dir / "logs",
    )


def pipeline_models(settings: Settings, catalog: Catalog) -> list[str]:
    """Every LLM model a run may ask for (what warm-up loads)."""
    models = [settings.model_safety, settings.model_interception, settings.model_translation]
    models += [c.generation.model for c in catalog.interceptions.values() if c.generation.model]
    if settings.vision_check_levels:
        models.append(settings.model_vision)
    return list(dict.fromkeys(models))


def scheduler_settings(settings: Settings, backends: Backends) -> SchedulerSettings:
    return SchedulerSettings(
        pools=backends.pools(),
        max_runs_in_flight_per_person=settings.max_runs_in_flight,
        max_queued_runs_per_person=settings.max_queued_runs,
        max_waiting_runs=settings.max_waiting_runs,
        queue_update_interval=settings.queue_update_interval,
        eta_refresh_interval=settings.eta_refresh_interval,
    )


def shared_slots(
    settings: Settings, backends: Backends
) -> contextlib.AbstractAsyncContextManager[GlobalSlots]:
    """The pools' slots across instances: with state = redis, a lease per job (closed after
    the runs, which `pipeline.close` ends first)."""
    pools = {p.name: p.slots for p in backends.pools()}
    return open_slots(settings.state, settings.redis_url, pools, settings.slot_lease_seconds)


@contextlib.asynccontextmanager
async def running_pipeline(
    settings: Settings,
    definitions: Definitions,
    registry: CollectorRegistry,
    demo: DemoOptions | None,
    pictures: PictureIndex | None = None,
) -> AsyncIterator[StartedPipeline]:
    """Open everything the pipeline needs, one part after the other, and yield the pipeline;
    on leaving (shutdown, or a failure or cancel halfway) close what was opened, in reverse.
    `pictures` is the people store's pictures index (opened by the app, which closes it)."""
    catalog, workflows = definitions
    models = pipeline_models(settings, catalog)
    async with contextlib.AsyncExitStack() as stack:
        simulators = await open_simulators(stack, catalog, models, demo) if demo else None
        waiting = WaitingSessions()
        backends = await open_backends(stack, settings, simulators, waiting)
        scheduler = Scheduler(scheduler_settings(settings, backends), registry=registry)
        stack.callback(scheduler.close)
        scheduler.global_slots = await stack.enter_async_context(shared_slots(settings, backends))
        records = RecordStore(settings.data_dir / "runs", settings.retention_hours, pictures)
        services = Services(
            pipeline_config(settings), catalog, workflows, backends, scheduler, records, waiting
        )
        services.held_media = HeldMedia(settings.held_media_bytes, settings.held_media_minutes * 60)
        bounds = settings.upload_bounds()
        services.uploads = UploadStore(
            settings.data_dir / "uploads", bounds, run_dir=records.run_dir
        )
        await stack.enter_async_context(services.uploads.running())  # closed after the runs
        services.warm_up = WarmUp(backends, models, settings.warm_up_timeout)
        stack.push_async_callback(services.warm_up.close)
        if settings.warm_up:
            services.warm_up.start()  # the console shows its progress
        services.classes = ClassHub(WallFeed())
        services.classes.lessons = services.lessons  # a watched class's paused, lesson open
        records.on_indexed = partial(publish_picture, services.classes, catalog)  # the wall
        stack.push_async_callback(services.classes.close)  # after the runs have ended
        pipeline = Pipeline(services)
        stack.push_async_callback(pipeline.close)
        await stack.enter_async_context(pruning(records))
        yield StartedPipeline(pipeline, simulators)


async def open_simulators(
    stack: contextlib.AsyncExitStack, catalog: Catalog, models: list[str], options: DemoOptions
) -> DemoBackends:
    # The one import of the harness outside tests: only demo mode loads the simulators.
    from server.harness.demo import DemoBackends

    simulators = DemoBackends(catalog, models, options.speed, options.responder)
    # Registered before start: construction made the ComfyUI simulator's temp dir, and stop
    # also undoes a start that failed halfway (the LLM simulator up, ComfyUI not).
    stack.push_async_callback(simulators.stop)
    await simulators.start()
    log.warning("demo_backends", message="no backend configured: using built-in simulators")
    return simulators


async def open_backends(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    simulators: DemoBackends | None,
    waiting: WaitingSessions,
) -> Backends:
    if simulators:
        configs = simulators.configs()
    else:
        configs = {kind: settings.backends(kind) for kind in BackendKind}
    backends = Backends(configs, lifecycle_settings(settings))
    backends.subscribe(waiting.publish)  # state changes reach the sessions waiting on them
    # Registered before start: start opens the clients one by one, close undoes any of them.
    stack.push_async_callback(backends.close)
    await backends.start()  # the warm-up is `WarmUp`'s (running_pipeline)
    return backends


@contextlib.asynccontextmanager
async def pruning(records: RecordStore) -> AsyncIterator[None]:
    """Old run records are pruned in the background while this is open."""
    pruner = asyncio.create_task(_prune_forever(records))
    try:
        yield
    finally:
        pruner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pruner


async def _prune_forever(records: RecordStore) -> None:
    task = asyncio.current_task()
    while True:
        await records.prune()
        if task is not None and task.cancelling():
            # A cancellation that reached the pruner inside `prune` and was not raised (one
            # shutdown in about five of the suite's runs waited here on the hour's sleep).
            raise asyncio.CancelledError
        await asyncio.sleep(PRUNE_INTERVAL)
