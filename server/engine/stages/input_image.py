"""Stage 4's part of image-to-image: the run's own picture goes to the instance that renders it.

The upload happens inside the run's slot on that instance (`generation.render`), so nothing
reaches an image server before the run's turn there, and a picture never lands on an instance
that will not render it. Each attempt uploads again: a render that moves to another instance
(failover after a crash or a restart) finds its picture there too. The name is the run's
(`atelier-<run id>.png`, never overwriting): ComfyUI keeps the name for the same bytes, renames a
different file under it (`name (1).png`), and the graph's slot gets the name it answered.
ComfyUI cannot delete an input file, so once the render is over the picture there is
overwritten with a blank one (`ComfyUIClient.forget_upload`): a child's photo does not stay
on the image server's disk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog

from server.engine.backends.instances import ComfyUIInstance
from server.engine.stages.context import StageContext
from server.engine.workflows.image import inject_image

log = structlog.get_logger(__name__)

#: The subfolder of ComfyUI's `input/` that holds this server's uploads.
UPLOAD_SUBFOLDER = "atelier"


def upload_name(run_id: str) -> str:
    """One name per run, so two runs' pictures never meet under one name."""
    return f"atelier-{run_id}.png"


@asynccontextmanager
async def input_image_on(
    ctx: StageContext, instance: ComfyUIInstance, graph: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """`graph` with the run's picture uploaded to `instance` and named in the config's slot
    (`graph` itself when the run brings none, or its output takes none). Once the render is
    over, however it ended, the picture there is blanked out in the background."""
    image = ctx.run.input_image
    slot = ctx.services.workflows[ctx.run.inputs.output].config.image
    if image is None or slot is None:
        yield graph
        return
    client = instance.client
    uploaded = await client.upload_image(
        image.data, upload_name(ctx.run.id), subfolder=UPLOAD_SUBFOLDER, overwrite=False
    )
    log.info("input_uploaded", run=ctx.run.id, instance=instance.name, name=uploaded.reference)
    try:
        yield inject_image(graph, slot, uploaded.reference)
    finally:
        client.forget_upload(uploaded)
