"""What a student reads when a backend fails: the stage and the server, never an address."""

from __future__ import annotations

import pytest

from server.engine.errors import BackendBusy, BackendError, BackendUnavailable, ModelNotFound
from server.engine.stages import texts
from server.engine.stages.context import StageTimeout
from server.protocol import BackendKind, StageName

URL = "http://127.0.0.1:8188/prompt"


@pytest.mark.parametrize(
    ("exc", "lang", "expected"),
    [
        (
            StageTimeout(backend=BackendKind.COMFYUI, instance="gpu1", limit=300),
            "en",
            "the picture machine did not answer in time (within 300 s)",
        ),
        (
            StageTimeout(backend=BackendKind.LLM, instance="gpu1", limit=90),
            "de",
            "die Textmaschine hat nicht rechtzeitig geantwortet (innerhalb von 90 s)",
        ),
        (
            BackendUnavailable(f"cannot connect to {URL}", backend="comfyui", instance="gpu1"),
            "de",
            "die Bildmaschine ist gerade nicht erreichbar",
        ),
        (
            BackendBusy("503 server busy", backend="ollama", instance="gpu1"),
            "en",
            "the text machine is too busy right now, try again in a minute",
        ),
        (
            ModelNotFound("model 'x' not found", backend="openai", instance="gw"),
            "en",
            "the text machine does not have the model this needs",
        ),
        (
            BackendError(f"Traceback ... {URL}", backend="comfyui", instance="gpu1"),
            "en",
            "the picture machine reported an error",
        ),
        (  # a backend of no kind is not called the text machine
            BackendUnavailable(f"cannot connect to {URL}", backend="tts", instance="gpu1"),
            "de",
            "der Server ist gerade nicht erreichbar",
        ),
    ],
)
def test_backend_problems_read_kindly_and_name_the_server(
    exc: BackendError, lang: str, expected: str
) -> None:
    assert texts.backend_problem(exc, lang) == expected
    assert "127.0.0.1" not in texts.backend_problem(exc, lang)


def test_a_failed_stage_is_named_in_the_students_language() -> None:
    assert texts.stage_failed(StageName.GENERATION, "de", "x") == (
        "Beim Erzeugen des Bildes ist etwas schiefgegangen: x"
    )
