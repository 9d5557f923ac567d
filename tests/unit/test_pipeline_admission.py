"""Turning run.start into a run's inputs, and the run's own lifecycle: pure."""

from __future__ import annotations

import pytest

from server.engine.admission import InvalidRun, UnknownConfig, admit_inputs
from server.engine.errors import InvalidState
from server.engine.people.identity import guest
from server.engine.run import Run, RunInputs
from server.engine.session import Session
from server.engine.stats import SocketStats
from server.protocol import RunStart, RunStatus, StageName
from server.wiring import load_definitions
from tests.conftest import make_settings

CATALOG, WORKFLOWS = load_definitions(make_settings())


def admit(**fields: object) -> RunInputs:
    message = RunStart.model_validate(
        {"type": "run.start", "prompt": "a fox", "interception": "bauhaus", **fields}
    )
    return admit_inputs(
        message, CATALOG, WORKFLOWS, max_prompt_chars=100, max_meta_prompt_chars=200
    )


def test_defaults_come_from_the_interception_config() -> None:
    inputs = admit()
    config = CATALOG.interceptions["bauhaus"]
    assert (inputs.output, inputs.meta_prompt, inputs.meta_prompt_edited) == (
        config.output,
        config.meta_prompt,
        False,
    )
    assert (inputs.width, inputs.height) == (None, None)


def test_a_seed_is_drawn_when_none_is_given_and_kept_when_given() -> None:
    assert admit(seed=7).seed == 7
    assert len({admit().seed for _ in range(5)}) > 1  # 2^53 choices: repeats are not a thing


def test_an_identical_meta_prompt_is_not_an_edit() -> None:
    meta = CATALOG.interceptions["bauhaus"].meta_prompt
    assert admit(meta_prompt=meta).meta_prompt_edited is False
    assert admit(meta_prompt="Be brief.").meta_prompt_edited is True


@pytest.mark.parametrize(
    ("fields", "error", "text"),
    [
        ({"prompt": "x" * 101}, InvalidRun, "prompt: longer than 100"),
        ({"prompt": "  \n "}, InvalidRun, "prompt: the prompt is empty"),
        ({"interception": "cubism_9000"}, UnknownConfig, "interception: no perspective"),
        ({"output": "nope"}, UnknownConfig, "output: no output config"),
        ({"meta_prompt": "m" * 201}, InvalidRun, "meta_prompt: longer than 200"),
        ({"width": 64}, InvalidRun, "width: must be between"),
        ({"height": 4096}, InvalidRun, "height: must be between"),
    ],
)
def test_bad_requests_name_the_field(
    fields: dict[str, object], error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text):
        admit(**fields)


def new_run() -> Run:
    session = Session("s", "x", log_limit=10, stats=SocketStats(), identity=guest("test"))
    return Run("r-test1", session, admit())


def test_run_lifecycle_allows_only_forward_moves() -> None:
    run = new_run()
    run.move(RunStatus.RUNNING)
    run.finish(RunStatus.COMPLETED)
    with pytest.raises(InvalidState):
        run.move(RunStatus.RUNNING)
    with pytest.raises(InvalidState):
        run.finish(RunStatus.FAILED)


def test_run_done_cannot_be_announced_before_the_run_finished() -> None:
    run = new_run()
    with pytest.raises(InvalidState):
        run.announce_done()


def test_a_queued_run_can_be_cancelled_before_it_starts() -> None:
    run = new_run()
    run.finish(RunStatus.CANCELLED, reason="Stopped.")
    assert run.snapshot().status is RunStatus.CANCELLED


def test_streamed_text_accumulates_and_a_clear_starts_the_stage_again() -> None:
    run = new_run()
    for piece in ("Hel", "lo"):
        run.token(StageName.INTERCEPTION, piece)
    assert run.texts_so_far() == {"interception": "Hello"}
    run.token(StageName.INTERCEPTION, "", clear=True)  # restarted on another server
    run.token(StageName.INTERCEPTION, "Hi")
    assert run.snapshot().texts == {"interception": "Hi"}
    run.texts[StageName.INTERCEPTION] = "Hi there"  # the stage is done: its final text wins
    assert run.texts_so_far() == {"interception": "Hi there"}
