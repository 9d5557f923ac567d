"""Stage 2's tokens through the word screen, end to end over real sockets: an LLM stand-in
(the demo simulator with a scripted answer, split inside words with `TOKEN_BREAK`) streams a
listed word in the middle of a harmless answer."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from aiohttp.test_utils import TestServer

from server.harness.demo import DemoResponder
from server.harness.llm_sim.common import TOKEN_BREAK, Faults
from server.wiring import load_definitions
from tests.conftest import make_settings
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    demo_of,
    events_of,
    record_of,
    run_done,
    stage_trail,
    start_run,
)

B = TOKEN_BREAK
#: A harmless answer with "gun" in its middle, sent one letter per token; after " in" (the
#: boundary that completes the word) the simulator stops sending and holds the stream open
#: until the client goes away: only a screen that closes the stream lets this run end.
FORBIDDEN = B.join([" A", " calm", " lake", " and", " a", " g", "u", "n", " in", " the", " reeds."])
HANG_AFTER = 9
HARMLESS = B.join([" A", " calm", " la", "ke", " with", " a", " Schwanz", "flosse", "."])


class Scripted(DemoResponder):
    """The demo's verdicts and translations, with a fixed stage-2 answer; when `hang_after`
    is set, the stage-2 stream (and only it: the fault is switched on as its answer is made)
    stops after that many tokens and stays open until its client goes away."""

    answer: str = HARMLESS
    #: Stage 3's answer instead of the demo's translation; the hang then applies to it.
    translation: str | None = None
    hang_after: int | None = None
    faults: Faults | None = None

    def __call__(self, messages: Sequence[dict[str, str]]) -> str:
        if self.translation is not None and self.is_prompt("translate", messages[0]["content"]):
            self._hang()
            return self.translation
        return super().__call__(messages)

    def reimagine(self, system: str, user: str) -> str:
        if self.translation is None:
            self._hang()
        return self.answer

    def _hang(self) -> None:
        if self.faults is not None:
            self.faults.hang_after_tokens = self.hang_after


async def scripted(
    start_pipeline: StartPipeline,
    answer: str,
    hang_after: int | None = None,
    translation: str | None = None,
) -> TestServer:
    responder = Scripted(load_definitions(make_settings())[0])
    responder.answer, responder.hang_after = answer, hang_after
    responder.translation = translation
    server = await start_pipeline(safety_level="kids", responder=responder)
    responder.faults = demo_of(server).llm.faults
    return server


def shown_texts(events: Sequence[dict[str, object]], stage: str = "interception") -> list[str]:
    """Every piece of `stage`'s text the client received: tokens and stage texts."""
    return [
        str(m.get("text") or "")
        for m in events
        if m["type"] in ("token", "stage") and m.get("stage") == stage
    ]


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_a_listed_word_mid_answer_never_reaches_the_client_and_closes_the_stream(
    start_pipeline: StartPipeline, lang: str
) -> None:
    server = await scripted(start_pipeline, FORBIDDEN, HANG_AFTER)
    client = await connected(server)
    run = await start_run(client, "a calm lake", lang=lang)
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    assert "gun" not in done["reason"]  # the word is never named to a child
    events = events_of(client, run)
    assert "".join(shown_texts(events)) == " A calm lake and a "  # up to the word, no further
    tokens = [m for m in events if m["type"] == "token"]
    assert tokens[-1] == {**tokens[-1], "text": "", "clear": True}  # what was shown, withdrawn
    assert stage_trail(client, run)[-1] == ("interception", "blocked")
    # The upstream response was closed: the hung simulator saw its client go away.
    assert demo_of(server).llm.cancelled_streams == 1
    assert_nothing_left(server)  # atelier_upstream_open is back to 0, no slot held
    verdict = record_of(server, run)["verdicts"]["interception"]
    assert verdict == {"safe": False, "answer": "stream screen: listed entry 'gun'"}


async def test_a_harmless_split_answer_streams_whole_and_stage_three_still_checks(
    start_pipeline: StartPipeline,
) -> None:
    server = await scripted(start_pipeline, HARMLESS)
    client = await connected(server)
    run = await start_run(client, "a calm lake")
    assert (await run_done(client, run))["status"] == "completed"
    events = events_of(client, run)
    tokens = "".join(m["text"] for m in events if m["type"] == "token")
    final = HARMLESS.replace(B, "")
    assert tokens == final  # every piece released, in order, nothing lost at the tail
    done = [m for m in events if m["type"] == "stage" and m["status"] == "done"]
    assert done[1]["text"] == final.strip()
    assert done[2]["stage"] == "translation"
    assert done[2]["detail"]["checks"] == ["words", "llm"]  # the stage-3 verdict still ran


async def test_a_held_word_is_released_when_the_stream_pauses(
    start_pipeline: StartPipeline,
) -> None:
    # The stream stops after "lake", with no boundary after it, and stays open.
    server = await scripted(start_pipeline, B.join([" A", " calm", " lake"]), hang_after=3)
    client = await connected(server)
    run = await start_run(client, "a calm lake")
    # Only `screen_hold_ms` without new text releases "lake": the stream is still open.
    await client.expect(lambda m: m["type"] == "token" and m["text"] == "lake")
    assert demo_of(server).llm.active_streams == 1
    await client.send({"type": "run.cancel", "run": run})
    assert (await run_done(client, run))["status"] == "cancelled"
    assert_nothing_left(server)


async def test_a_listed_word_in_the_streamed_translation_never_reaches_the_client(
    start_pipeline: StartPipeline,
) -> None:
    german = "Ein ruhiger See mit einer Ente."  # German: stage 3 translates it
    server = await scripted(start_pipeline, german, HANG_AFTER, translation=FORBIDDEN)
    client = await connected(server)
    run = await start_run(client, "ein ruhiger See", lang="de")
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    assert stage_trail(client, run)[-1] == ("translation", "blocked")
    shown = shown_texts(events_of(client, run), "translation")
    assert "".join(shown) == " A calm lake and a "  # up to the word, then withdrawn
    assert [m["clear"] for m in events_of(client, run) if m["type"] == "token"][-1]
    assert demo_of(server).llm.cancelled_streams == 1
    assert_nothing_left(server)


async def test_an_answer_too_costly_to_check_is_blocked_unseen(
    start_pipeline: StartPipeline,
) -> None:
    # U+FDFA grows to 18 characters when normalized: past the normalizer's bound, fail-closed.
    server = await scripted(start_pipeline, B.join([" A", " calm", " " + "\ufdfa" * 40, " lake"]))
    client = await connected(server)
    run = await start_run(client, "a calm lake")
    assert (await run_done(client, run))["status"] == "blocked"
    assert "\ufdfa" not in "".join(shown_texts(events_of(client, run)))
    verdict = record_of(server, run)["verdicts"]["interception"]
    assert verdict == {"safe": False, "answer": "stream screen: too costly to check"}
    assert_nothing_left(server)
