"""Stage 3: translate to English for the image model when needed, then check the result.

The translation streams to the client through the word screen, like stage 2's text
(`stages.screened`).
"""

from __future__ import annotations

from server.engine.safety_words import needs_translation
from server.engine.stages.context import StageContext, StageResult
from server.engine.stages.safety import check_llm, check_words, lang_of
from server.engine.stages.screened import stream_screened
from server.protocol import BackendKind, StageName


async def translation(ctx: StageContext) -> StageResult:
    run = ctx.run
    source = run.texts.get(StageName.INTERCEPTION) or run.inputs.prompt
    translated = needs_translation(source)
    final = source
    if translated:
        catalog = ctx.services.catalog
        system = catalog.render_prompt("translate", level=ctx.run.safety_level, lang=lang_of(ctx))
        request = ctx.request(ctx.config.model_translation, system, source, temperature=0.0)
        final = (await stream_screened(ctx, StageName.TRANSLATION, request)).strip() or source
    check_words(ctx, final)
    checks = ["words"]
    if await check_llm(ctx, StageName.TRANSLATION, "safety_output", final):
        checks.append(BackendKind.LLM.value)
    return StageResult(text=final, detail={"translated": translated, "checks": checks})
