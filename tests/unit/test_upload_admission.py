"""A `run.start` with an `image`, at admission (pure): the picked output hands it to its
img2img variant, an output that starts from a picture needs one, an output that takes none
refuses one, each with a sentence for the student in the run's language."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from server.engine.admission import admit_inputs
from server.engine.run import RunInputs
from server.engine.uploads.admit import (
    ImageNotAccepted,
    ImageRequired,
    rendered_output,
)
from server.engine.workflows import OutputConfig
from server.protocol import ErrorCode, RunStart
from server.wiring import load_definitions
from tests.conftest import make_settings

CATALOG, WORKFLOWS = load_definitions(make_settings())


def start(**fields: object) -> RunStart:
    return RunStart.model_validate(
        {"type": "run.start", "prompt": "a fox", "interception": "bauhaus", **fields}
    )


def admit(**fields: object) -> RunInputs:
    return admit_inputs(
        start(**fields), CATALOG, WORKFLOWS, max_prompt_chars=100, max_meta_prompt_chars=200
    )


def test_a_picture_renders_with_the_outputs_img2img_variant() -> None:
    assert admit().output == "sdxl_base"
    assert admit(image="u-Qm3x9TbZk1Lp0aWc").output == "sdxl_img2img"


def test_an_output_that_starts_from_a_picture_needs_one() -> None:
    assert admit(output="flux_kontext_edit", image="u-Qm3x9TbZk1Lp0aWc").output == (
        "flux_kontext_edit"
    )
    with pytest.raises(ImageRequired) as caught:
        admit(output="flux_kontext_edit", lang="de")
    assert caught.value.code is ErrorCode.IMAGE_REQUIRED
    assert str(caught.value) == (
        "Diese Art Bild startet mit deinem eigenen Bild. Bitte füge zuerst eines hinzu."
    )


@dataclass
class TextOnly:
    config: OutputConfig


def test_a_picture_for_an_output_that_takes_none_is_refused_not_dropped() -> None:
    plain = WORKFLOWS["sdxl_base"].config.model_copy(update={"image_variant": None})
    workflows = {"sdxl_base": TextOnly(plain)}
    assert rendered_output(workflows, "sdxl_base", start()) == "sdxl_base"
    with pytest.raises(ImageNotAccepted) as caught:
        rendered_output(workflows, "sdxl_base", start(image="u-Qm3x9TbZk1Lp0aWc"))
    assert caught.value.code is ErrorCode.IMAGE_NOT_ACCEPTED
    assert str(caught.value).startswith("This kind of picture cannot start from your own image")
