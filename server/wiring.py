"""Composing the pipeline at start-up: catalog, backends (real or demo), scheduler, records.

Kept apart from `server.app` so the app module stays about routes and sockets. Everything
here is created in the app's cleanup context and closed in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry

from server.engine.backends.config import LifecycleSettings
from server.engine.backends.notify import WaitingSessions
from server.engine.backends.registry import Backends
from server.engine.catalog import Catalog, SafetyLevel, load_catalog
from server.engine.pipeline import Pipeline
from server.engine.records import RecordStore
from server.engine.scheduler import Scheduler, SchedulerSettings
from server.engine.stages.context import PipelineConfig, Services
from server.engine.workflows.catalog import Workflow, load_workflows
from server.harness.demo import DemoBackends, DemoSpeed
from server.harness.llm_sim.common import Responder
from server.protocol import BackendKind
from server.settings import Settings

log = structlog.get_logger(__name__)

PRUNE_INTERVAL = 3600.0


@dataclass
class Runtime:
    """What start-up created that tests and operators may want to reach."""

    demo: DemoBackends | None = None


RUNTIME = web.AppKey("runtime", Runtime)


@dataclass(frozen=True)
class DemoOptions:
    """How tests and `./run.sh` shape the in-process simulators."""

    speed: DemoSpeed = field(default_factory=DemoSpeed)
    responder: Responder | None = None


def load_definitions(settings: Settings) -> tuple[Catalog, dict[str, Workflow]]:
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
        generation_timeout=settings.generation_timeout,
        max_prompt_chars=settings.max_prompt_chars,
        max_meta_prompt_chars=settings.max_meta_prompt_chars,
    )


def lifecycle_settings(settings: Settings) -> LifecycleSettings:
    return LifecycleSettings(
        health_interval=settings.health_interval,
        health_timeout=settings.health_timeout,
        breaker_failures=settings.breaker_failures,
        breaker_cooldown=settings.breaker_cooldown,
        warm_up=settings.warm_up,
        warm_up_timeout=settings.warm_up_timeout,
        log_dir=settings.data_dir / "logs",
    )


def pipeline_models(settings: Settings, catalog: Catalog) -> list[str]:
    """Every LLM model a run may ask for (what warm-up loads)."""
    models = [settings.model_safety, settings.model_interception, settings.model_translation]
    models += [c.generation.model for c in catalog.interceptions.values() if c.generation.model]
    return list(dict.fromkeys(models))


def scheduler_settings(settings: Settings, backends: Backends) -> SchedulerSettings:
    return SchedulerSettings(
        pools=backends.pools(),
        max_runs_in_flight_per_session=settings.max_runs_in_flight,
        max_queued_runs_per_session=settings.max_queued_runs,
        max_waiting_runs=settings.max_waiting_runs,
        queue_update_interval=settings.queue_update_interval,
        eta_refresh_interval=settings.eta_refresh_interval,
    )


def pipeline_context(
    pipeline: Pipeline,
    settings: Settings,
    definitions: tuple[Catalog, dict[str, Workflow]],
    registry: CollectorRegistry,
    demo: DemoOptions | None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The app's cleanup context for everything the pipeline needs."""
    catalog, workflows = definitions

    async def context(app: web.Application) -> AsyncIterator[None]:
        simulators = await _start_demo(settings, catalog, demo) if demo else None
        app[RUNTIME].demo = simulators
        configs = (
            simulators.configs()
            if simulators
            else {kind: settings.backends(kind) for kind in BackendKind}
        )
        backends = Backends(configs, lifecycle_settings(settings))
        waiting = WaitingSessions()
        backends.subscribe(waiting.publish)  # state changes reach the sessions waiting on them
        await backends.start(pipeline_models(settings, catalog))
        scheduler = Scheduler(scheduler_settings(settings, backends), registry=registry)
        records = RecordStore(settings.data_dir / "runs", settings.retention_hours)
        pipeline.bind(
            Services(
                pipeline_config(settings), catalog, workflows, backends, scheduler, records, waiting
            )
        )
        pruner = asyncio.create_task(_prune_forever(records))
        try:
            yield
        finally:
            pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pruner
            await pipeline.close()
            scheduler.close()
            await backends.close()
            if simulators:
                await simulators.stop()

    return context


async def _start_demo(settings: Settings, catalog: Catalog, options: DemoOptions) -> DemoBackends:
    models = pipeline_models(settings, catalog)
    demo = DemoBackends(catalog, models, options.speed, options.responder)
    await demo.start()
    log.warning("demo_backends", message="no backend configured: using built-in simulators")
    return demo


async def _prune_forever(records: RecordStore) -> None:
    while True:
        await asyncio.to_thread(records.prune)
        await asyncio.sleep(PRUNE_INTERVAL)
