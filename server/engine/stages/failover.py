"""Doing a stage's work on a backend instance, and once more on another when it fails there.

Every piece of backend work goes through here, whichever its kind: the LLM stages
(`completion`) and the image stage (`generation`). `with_failover` acquires a usable instance of
the kind (started on demand) and hands it to the stage's attempt; when the attempt fails in a way
another instance may not (`worth_retrying`: a crash, a lost connection, a cut stream), it runs
once more on another instance of the kind. `on_instance` is the attempt's core: hold a slot of
the instance (the run sees its queue position; nothing reaches a backend without one), do the
work under the stage's time bound, and tell the registry how it went. While a stage needs a kind
of backend, its session receives that kind's `backend` events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from server.engine.backends.health import worth_retrying
from server.engine.backends.instances import Instance
from server.engine.backends.kinds import KindFacts
from server.engine.backends.registry import Backends
from server.engine.errors import BackendError, BackendUnavailable
from server.engine.stages.context import StageContext, StageTimeout
from server.protocol import StageName

log = structlog.get_logger(__name__)

InstanceT = TypeVar("InstanceT", bound=Instance)
NeedT = TypeVar("NeedT")
R = TypeVar("R")

#: A stage's work on one instance; the flag says whether it is the retry on another.
Attempt = Callable[[InstanceT, bool], Awaitable[R]]


def no_other_instance(first: BackendError, second: BackendError) -> BackendUnavailable:
    """The message when the retry found nowhere to go: what failed, and why nothing else."""
    return BackendUnavailable(
        f"{first.instance} stopped answering ({first.message}) and no other server could take "
        f"over ({second.message})",
        backend=first.backend,
        instance=first.instance,
        cause=first,
    )


def report_outcome(backends: Backends, instance: Instance, exc: BaseException | None) -> None:
    """Tell the registry how a piece of work on `instance` went."""
    if exc is None:
        backends.succeeded(instance)
    elif isinstance(exc, BackendError) and not isinstance(exc, StageTimeout):
        backends.failed(instance, exc)
    else:
        backends.abandoned(instance)


async def on_instance(
    ctx: StageContext,
    instance: Instance,
    stage: StageName,
    what: str,
    limit: float,
    work: Callable[[], Awaitable[R]],
) -> R:
    """Hold a slot of `instance` for `stage`, do `work` within `limit` seconds once it has the
    slot, and report how it went. The run's record says `what` ran where (`what@instance`)."""
    failure: BaseException | None = None
    try:
        async with ctx.ticket.slot(instance.pool, stage.value):
            ctx.run.models[stage] = f"{what}@{instance.name}"
            try:
                async with asyncio.timeout(limit):
                    return await work()
            except TimeoutError:
                raise StageTimeout(
                    backend=instance.kind, instance=instance.name, limit=limit
                ) from None
    except BaseException as exc:
        failure = exc
        raise
    finally:
        report_outcome(ctx.services.backends, instance, failure)


async def with_failover(
    ctx: StageContext,
    kind: KindFacts[InstanceT, NeedT],
    need: NeedT,
    stage: StageName,
    attempt: Attempt[InstanceT, R],
    *,
    retry_event: str,
) -> R:
    """`attempt` on an instance of `kind` that serves `need`; if it fails in a way worth
    retrying, once more on another (logged as `retry_event`)."""
    backends = ctx.services.backends
    with ctx.services.waiting.watch(kind.kind, ctx.session):
        instance = await backends.acquire(kind, need, ctx.load)
        try:
            return await attempt(instance, False)
        except BackendError as exc:
            if not worth_retrying(exc):
                raise
            first = exc
        log.warning(retry_event, run=ctx.run.id, stage=stage, error=str(first))
        backends.retries += 1
        return await attempt(await another(ctx, kind, need, instance, first), True)


async def another(
    ctx: StageContext,
    kind: KindFacts[InstanceT, NeedT],
    need: NeedT,
    failed: Instance,
    first: BackendError,
) -> InstanceT:
    """An instance for the retry, never the one that failed; says so when there is none."""
    exclude = frozenset({failed.name})
    try:
        return await ctx.services.backends.acquire(kind, need, ctx.load, exclude=exclude)
    except BackendError as exc:
        raise no_other_instance(first, exc) from first
