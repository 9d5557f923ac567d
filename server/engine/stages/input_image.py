"""Stage 4's part of image-to-image: the run's own picture goes to the instance that renders it.

The upload happens inside the run's slot on that instance (`generation.render`), so nothing
reaches an image server before the run's turn there, and a picture never lands on an instance
that will not render it. Each attempt uploads again: a render that moves to another instance
(failover after a crash or a restart) finds its picture there too. The name is the run's
(`atelier-<run id>.png`, never overwriting): ComfyUI keeps the name for the same bytes, renames a
different file under it (`name (1).png`), and the graph's slot gets the name it answered.
"""

from __future__ import annotations

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


async def with_input_image(
    ctx: StageContext, instance: ComfyUIInstance, graph: dict[str, Any]
) -> dict[str, Any]:
    """`graph` with the run's picture uploaded to `instance` and named in the config's slot;
    `graph` itself when the run brings none (or its output takes none)."""
    image = ctx.run.input_image
    slot = ctx.services.workflows[ctx.run.inputs.output].config.image
    if image is None or slot is None:
        return graph
    uploaded = await instance.client.upload_image(
        image.data, upload_name(ctx.run.id), subfolder=UPLOAD_SUBFOLDER, overwrite=False
    )
    log.info("input_uploaded", run=ctx.run.id, instance=instance.name, name=uploaded.reference)
    return inject_image(graph, slot, uploaded.reference)
