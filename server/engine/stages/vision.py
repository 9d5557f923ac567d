"""The vision check of stage 4: a vision-capable LLM looks at each finished picture before the
student sees it, at the levels `vision_check_levels` names (default kids and youth).

It runs after the render, once the picture is stored or held, and before its `output` event:
until it passes, the picture is in no `run.outputs`, so neither the page nor `/media` shows
it. It asks for the same structured verdict as the text checks (`safety_verdict`: the JSON
schema where the server constrains output, read by the same fail-closed parser). Fail-closed:
a model that is down, slow or answers anything but a clear "safe" blocks the run; so does a
picture larger than `vision_max_image_bytes`, or an output that is not a picture. The student
reads a fixed friendly sentence, never the model's words; those go to the run's record
(`run.verdicts`) for the teacher. The request goes through the same LLM failover as every
other LLM step (`ask_llm`).
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import structlog

from server.engine.catalog import Lang
from server.engine.errors import BackendError
from server.engine.llm import ChatImage, ChatMessage, ChatRequest
from server.engine.run_record import Verdict
from server.engine.safety_verdict import VERDICT_SCHEMA, parse_verdict
from server.engine.stages import texts
from server.engine.stages.completion import ask_llm
from server.engine.stages.context import Blocked, StageContext
from server.engine.stages.safety import VERDICT_MAX_TOKENS, recorded
from server.protocol import StageName, StageStatus

log = structlog.get_logger(__name__)

#: The stage prompt (`workflows/prompts/vision_check.md`).
PROMPT = "vision_check"
#: What the user turn says beside the picture; the system prompt carries the instructions.
_ASK = "The picture to judge is attached."
#: What `ChatImage` accepts as a picture's type; anything else (a video, a text) is refused.
_IMAGE_TYPE = re.compile(r"image/[a-z0-9.+-]+")
#: The detail a blocked stage carries (the page shows the stage as stopped).
_DETAIL = {"check": "vision"}


@dataclass(frozen=True, slots=True)
class Picture:
    """A finished picture waiting for the check: where it is, its type, and its bytes."""

    path: Path
    mime: str
    data: bytes


def vision_checked(ctx: StageContext) -> bool:
    """Whether the run's level has its pictures checked (and its previews coarsened)."""
    return ctx.run.safety_level in ctx.config.vision_check_levels


def lang_of(ctx: StageContext) -> Lang:
    return "de" if ctx.run.inputs.lang == "de" else "en"


async def picture_of(path: Path, mime: str, unsaved: bytes | None) -> Picture:
    """The picture's bytes: those the disk refused, or the file just written."""
    data = unsaved if unsaved is not None else await asyncio.to_thread(path.read_bytes)
    return Picture(path, mime, data)


async def discard(pictures: Sequence[Picture]) -> None:
    """Remove blocked pictures from disk: nothing may serve them later (the reason stays)."""
    for picture in pictures:
        await asyncio.to_thread(picture.path.unlink, missing_ok=True)


async def check_pictures(ctx: StageContext, pictures: Sequence[Picture]) -> None:
    """Announce the check (the stage's fifth state) and check every picture; raises Blocked."""
    ctx.run.stage_event(StageName.GENERATION, StageStatus.CHECKING)
    rendered = ctx.run.models.get(StageName.GENERATION)
    try:
        for picture in pictures:
            await check_picture(ctx, picture)
    finally:
        # `ask_llm` records the vision model under this stage; the record keeps the renderer.
        if rendered is not None:
            ctx.run.models[StageName.GENERATION] = rendered


async def check_picture(ctx: StageContext, picture: Picture) -> None:
    """One picture: blocked unless the vision model's verdict is a clear "safe"."""
    if len(picture.data) > ctx.config.vision_max_image_bytes:
        size = f"the picture has {len(picture.data)} bytes, more than vision_max_image_bytes"
        refuse(ctx, {"safe": False, "fail_closed": True, "error": size})
    if image_type(picture.mime) is None:
        kind = f"the output is {picture.mime[:80]!r}, not a picture a vision model reads"
        refuse(ctx, {"safe": False, "fail_closed": True, "error": kind})
    try:
        answer = await ask_llm(ctx, StageName.GENERATION, vision_request(ctx, picture))
    except BackendError as exc:
        log.warning("vision_check_unavailable", run=ctx.run.id, error=str(exc))
        refuse(ctx, {"safe": False, "fail_closed": True, "error": str(exc)})
    verdict = parse_verdict(answer)
    ctx.run.verdicts[StageName.GENERATION] = recorded(verdict, answer)
    if not verdict.safe:
        raise Blocked(texts.text("vision_blocked", lang_of(ctx)), dict(_DETAIL))


def image_type(mime: str) -> str | None:
    """The picture's type as a vision model is told it (`image/png` for `Image/PNG; q=1`);
    None for anything that is not a picture."""
    bare = mime.split(";", 1)[0].strip().lower()
    return bare if _IMAGE_TYPE.fullmatch(bare) else None


def refuse(ctx: StageContext, verdict: Verdict) -> NoReturn:
    """Fail-closed: the check could not run, so the picture is not shown."""
    ctx.run.verdicts[StageName.GENERATION] = verdict
    detail = {**_DETAIL, "fail_closed": True}
    raise Blocked(texts.text("vision_unavailable", lang_of(ctx)), detail)


def vision_request(ctx: StageContext, picture: Picture) -> ChatRequest:
    """Our prompt as the system turn, the picture in the user turn."""
    level = ctx.run.safety_level
    system = ctx.services.catalog.render_prompt(PROMPT, level=level, lang=lang_of(ctx))
    mime = image_type(picture.mime) or "image/png"  # check_picture refused any other
    image = ChatImage(mime=mime, data=base64.b64encode(picture.data).decode())
    messages = (
        ChatMessage(role="system", content=system),
        ChatMessage(role="user", content=_ASK, images=(image,)),
    )
    # think=False, as for the text verdicts: a reasoning preamble could outrun the budget.
    return ChatRequest(
        model=ctx.config.model_vision,
        messages=messages,
        temperature=0.0,
        max_tokens=VERDICT_MAX_TOKENS,
        think=False,
        response_schema=VERDICT_SCHEMA,
    )
