"""Stage 2: the LLM re-imagines the prompt through the chosen perspective, token by token.

The tokens reach the client only through the word screen (`stages.screened`): a listed word in
the answer blocks the run, withdraws what was shown and closes the LLM's stream. At kids and
youth stage 3 still asks the safety model about the final text.
"""

from __future__ import annotations

from server.engine.errors import BackendProtocolError
from server.engine.stages.context import StageContext, StageResult
from server.engine.stages.screened import stream_screened
from server.protocol import BackendKind, StageName, StageStatus


async def interception(ctx: StageContext) -> StageResult:
    run = ctx.run
    inputs = run.inputs
    config = ctx.services.catalog.interceptions[inputs.interception]
    if not inputs.meta_prompt.strip():  # the pass-through perspective: nothing to re-imagine
        return StageResult(StageStatus.SKIPPED, text=inputs.prompt)
    params = config.generation
    request = ctx.request(
        params.model or ctx.config.model_interception,
        inputs.meta_prompt,
        inputs.prompt,
        temperature=params.temperature,
        top_p=params.top_p,
        max_tokens=params.max_tokens,
        seed=inputs.seed % 2**31,
    )
    text = await stream_screened(ctx, StageName.INTERCEPTION, request)
    if not text.strip():
        raise BackendProtocolError(
            "the language model answered with no text", backend=BackendKind.LLM, instance="-"
        )
    return StageResult(text=text.strip(), detail={"model": run.models.get(StageName.INTERCEPTION)})
