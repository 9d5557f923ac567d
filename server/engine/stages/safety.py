"""Safety checks: the word list for every level, then an LLM verdict for kids and youth.

Fail-closed: when the LLM cannot answer (down, timeout, garbage), the run is blocked with a
friendly reason, never waved through. Used by stage 1 (the student's input and an edited
meta-prompt) and by stage 3 (the final English image prompt), at the run's own level
(`Run.safety_level`: the operator's, or the student's class's when that is stricter).
"""

from __future__ import annotations

from typing import Any

import structlog

from server.engine.catalog import Lang
from server.engine.errors import BackendError
from server.engine.llm import ChatRequest
from server.engine.run_record import Verdict as RecordedVerdict
from server.engine.safety_verdict import VERDICT_SCHEMA, Verdict, parse_verdict
from server.engine.safety_words import TextTooLong
from server.engine.stages import texts
from server.engine.stages.completion import ask_llm
from server.engine.stages.context import Blocked, StageContext, StageResult
from server.protocol import BackendKind, StageName

log = structlog.get_logger(__name__)

#: Enough for the JSON verdict with a reason of MAX_REASON_CHARS (about 60 tokens).
VERDICT_MAX_TOKENS = 120
#: The start of the model's answer the record keeps.
RECORDED_ANSWER_CHARS = 500


def lang_of(ctx: StageContext) -> Lang:
    return "de" if ctx.run.inputs.lang == "de" else "en"


def check_words(ctx: StageContext, *candidates: str) -> None:
    """Block if any candidate text contains an entry of the level's word list.

    The entry found goes to the run's record (`run.verdicts`, for the teacher); the child's
    sentence and the stage's detail never name it.
    """
    words = ctx.services.catalog.word_lists[ctx.run.safety_level]
    stage = ctx.run.stage or StageName.SAFETY
    for candidate in candidates:
        try:
            hit = words.find(candidate)
        except TextTooLong as exc:
            # Fail-closed: a text too costly to normalize is never waved through unchecked.
            ctx.run.verdicts[stage] = {"safe": False, "fail_closed": True, "error": str(exc)}
            raise Blocked(texts.text("word_blocked", lang_of(ctx)), {"check": "words"}) from exc
        if hit is not None:
            ctx.run.verdicts[stage] = {"safe": False, "answer": f"word list: {hit}"}
            raise Blocked(texts.text("word_blocked", lang_of(ctx)), {"check": "words"})


async def check_llm(ctx: StageContext, stage: StageName, prompt_name: str, text: str) -> bool:
    """Ask the safety model; True if it ran. Raises Blocked on unsafe or on any failure."""
    if not ctx.run.safety_level.llm_checked:
        return False
    lang = lang_of(ctx)
    try:
        answer = await ask_llm(ctx, stage, verdict_request(ctx, prompt_name, lang, text))
    except BackendError as exc:
        log.warning("safety_check_unavailable", run=ctx.run.id, stage=stage, error=str(exc))
        ctx.run.verdicts[stage] = {"safe": False, "fail_closed": True, "error": str(exc)}
        raise Blocked(texts.text("check_unavailable", lang), {"fail_closed": True}) from exc
    verdict = parse_verdict(answer)
    ctx.run.verdicts[stage] = recorded(verdict, answer)
    if not verdict.safe:
        # The child reads a fixed sentence; the model's reason is in the record, for the teacher.
        raise Blocked(texts.text("llm_blocked", lang), {"check": BackendKind.LLM.value})
    return True


def verdict_request(ctx: StageContext, prompt_name: str, lang: Lang, text: str) -> ChatRequest:
    """The verdict prompt, asking for `VERDICT_SCHEMA` where the server can constrain output."""
    level = ctx.run.safety_level
    system = ctx.services.catalog.render_prompt(prompt_name, level=level, lang=lang)
    # think=False: a reasoning preamble could outrun the token budget and read as unsafe.
    return ctx.request(
        ctx.config.model_safety,
        system,
        text,
        temperature=0.0,
        max_tokens=VERDICT_MAX_TOKENS,
        think=False,
        response_schema=VERDICT_SCHEMA,
    )


def recorded(verdict: Verdict, answer: str) -> RecordedVerdict:
    """What the record keeps: the decision, how it was read, the reason, the answer's start."""
    entry: RecordedVerdict = {"safe": verdict.safe, "read_as": verdict.read_as}
    if verdict.reason is not None:
        entry["reason"] = verdict.reason
    entry["answer"] = answer[:RECORDED_ANSWER_CHARS]
    return entry


async def input_safety(ctx: StageContext) -> StageResult:
    """Stage 1: the prompt and, when the student edited it, the meta-prompt."""
    inputs = ctx.run.inputs
    candidates = [inputs.prompt]
    if inputs.meta_prompt_edited:
        candidates.append(inputs.meta_prompt)
    check_words(ctx, *candidates)
    checks: list[str] = ["words"]
    combined = "\n\n".join(candidates)
    if await check_llm(ctx, StageName.SAFETY, "safety_input", combined):
        checks.append(BackendKind.LLM.value)
    detail: dict[str, Any] = {"level": ctx.run.safety_level.value, "checks": checks}
    return StageResult(detail=detail)
