"""Stage 1 for a run that starts from the student's own picture: the text checks, then the
picture's own vision check, before any other stage runs (issue 20).

At the levels `vision_check_levels` names (kids, youth) an uploaded picture is looked at by the
same vision model, with the same prompt and the same fail-closed verdict parsing, as the
pictures stage 4 renders (`stages/vision.py`): a picture the model calls unsafe, one it could
not look at (down, slow, an unclear answer) or one over `vision_max_image_bytes` blocks the
run. The student reads a fixed sentence about their picture, never the model's words; those
go to the run's record (`run.verdicts`) for the teacher. Nothing of the picture reaches an
interception, a translation or ComfyUI before it passed.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import structlog

from server.engine.errors import BackendError
from server.engine.run_record import Verdict
from server.engine.safety_verdict import parse_verdict
from server.engine.stages.completion import ask_llm
from server.engine.stages.context import Blocked, StageContext, StageResult
from server.engine.stages.safety import input_safety as text_safety
from server.engine.stages.safety import recorded
from server.engine.stages.vision import Picture, lang_of, vision_checked, vision_request
from server.engine.uploads import InputImage
from server.protocol import StageName

log = structlog.get_logger(__name__)

_TEXTS = {
    "blocked": {
        "en": "Your picture cannot be used here. Please choose another one.",
        "de": "Dein Bild kann hier nicht verwendet werden. Bitte wähle ein anderes.",
    },
    "unavailable": {
        "en": "Your picture could not be checked right now, so nothing was made. Please try "
        "again in a moment.",
        "de": "Dein Bild konnte gerade nicht geprüft werden, deshalb wurde nichts erzeugt. "
        "Bitte versuch es gleich noch einmal.",
    },
}
_DETAIL = {"check": "vision"}


async def input_safety(ctx: StageContext) -> StageResult:
    """Stage 1: the prompt's checks (`stages/safety.py`), then the run's picture, if any."""
    result = await text_safety(ctx)
    image = ctx.run.input_image
    if image is None or not vision_checked(ctx):
        return result
    await check_input_image(ctx, image)
    checks = [*result.detail.get("checks", []), "vision"]
    return StageResult(result.status, result.text, {**result.detail, "checks": checks})


async def check_input_image(ctx: StageContext, image: InputImage) -> None:
    """Blocked unless the vision model's verdict on the picture is a clear "safe"."""
    if len(image.data) > ctx.config.vision_max_image_bytes:
        size = f"the upload has {len(image.data)} bytes, more than vision_max_image_bytes"
        refuse(ctx, {"safe": False, "fail_closed": True, "error": size})
    picture = Picture(Path(image.id), "image/png", image.data)
    checked_by = ctx.run.models.get(StageName.SAFETY)
    try:
        answer = await ask_llm(ctx, StageName.SAFETY, vision_request(ctx, picture))
    except BackendError as exc:
        log.warning("upload_check_unavailable", run=ctx.run.id, error=str(exc))
        refuse(ctx, {"safe": False, "fail_closed": True, "error": str(exc)})
    finally:  # the record keeps the text checks' model for the stage
        if checked_by is not None:
            ctx.run.models[StageName.SAFETY] = checked_by
    verdict = parse_verdict(answer)
    if not verdict.safe:
        ctx.run.verdicts[StageName.SAFETY] = recorded(verdict, answer)
        raise Blocked(_TEXTS["blocked"][lang_of(ctx)], dict(_DETAIL))


def refuse(ctx: StageContext, verdict: Verdict) -> NoReturn:
    """Fail-closed: the picture could not be checked, so the run does not go on."""
    ctx.run.verdicts[StageName.SAFETY] = verdict
    raise Blocked(_TEXTS["unavailable"][lang_of(ctx)], {**_DETAIL, "fail_closed": True})
