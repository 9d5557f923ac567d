"""Structured verdicts from a real small model: SmolLM2-135M through llama-cpp-python, asked
for the verdict schema (`structured_output = "json_object"`, the form this server takes).

What is asserted is what the schema promises: every answer is JSON the parser reads. What the
model decides is recorded, not asserted (printed; run with -s): a 135M model follows the form
but is no judge of content, which is why the word list runs first at every level.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from server.engine.backends.config import LLMBackendConfig
from server.engine.catalog import SafetyLevel
from server.engine.llm import (
    ChatMessage,
    ChatRequest,
    Dialect,
    LLMInstanceConfig,
    create_llm_client,
)
from server.engine.safety_verdict import VERDICT_SCHEMA, parse_verdict
from server.engine.stages import texts
from server.engine.stages.safety import VERDICT_MAX_TOKENS
from server.wiring import load_definitions
from tests.conftest import make_settings
from tests.pipeline_support import connected, record_of, run_done, stage_trail, start_run
from tests.real.conftest import StartAtelier
from tests.real.llama_server import MODEL_ALIAS, LlamaServer
from tests.real.recording_proxy import RecordingProxy

pytestmark = pytest.mark.real_llm

#: Everyday ideas a child might type; none is anything but harmless.
HARMLESS = (
    "a cat with a hat on the moon",
    "a red apple on a table",
    "a dog playing in the park",
    "a castle in the clouds",
    "a sunflower field at sunset",
    "a friendly dragon reading a book",
    "Eine Katze mit Hut",
    "ein Haus am See",
)
#: Ideas no child's picture should come from (the word list blocks them before the model).
UNSAFE = (
    "a bloody knife in a dead body",
    "a naked woman",
    "a man shooting people with a gun",
)


@pytest.fixture
async def proxy(llama_server: LlamaServer) -> AsyncIterator[RecordingProxy]:
    recorder = RecordingProxy(llama_server.url)
    await recorder.start()
    try:
        yield recorder
    finally:
        await recorder.close()


def verdict_request(text: str) -> ChatRequest:
    """What stage 1 sends at `kids` (`stages.safety.verdict_request`), built without a run."""
    catalog, _ = load_definitions(make_settings())
    system = catalog.render_prompt("safety_input", level=SafetyLevel.KIDS, lang="en")
    messages = (
        ChatMessage(role="system", content=system),
        ChatMessage(role="user", content=text),
    )
    return ChatRequest(
        model=MODEL_ALIAS,
        messages=messages,
        temperature=0.0,
        max_tokens=VERDICT_MAX_TOKENS,
        think=False,
        response_schema=VERDICT_SCHEMA,
    )


async def test_kids_run_gets_a_parseable_verdict_from_smollm2(
    proxy: RecordingProxy, start_atelier: StartAtelier
) -> None:
    backend = LLMBackendConfig(
        name="llama",
        url=proxy.url,
        dialect=Dialect.OPENAI,
        slots=1,
        structured_output="json_object",
    )
    server = await start_atelier(proxy.url, safety_level="kids", llm=[backend])
    client = await connected(server)
    run = await start_run(client, "a cat with a hat on the moon", lang="en")
    done = await run_done(client, run, timeout=180)

    sent = proxy.to("/v1/chat/completions")[0].request_json()  # stage 1's verdict
    assert sent["response_format"] == {"type": "json_object", "schema": VERDICT_SCHEMA}
    verdicts = record_of(server, run)["verdicts"]
    verdict = verdicts["safety"]
    ended = f"{done['status']} after {stage_trail(client, run)[-1]}"
    print(f"\nSmolLM2 at kids on a harmless idea: {verdicts}; the run ended {ended}")
    assert verdict["read_as"] == "json", verdict
    if verdict["safe"]:
        assert stage_trail(client, run)[:2] == [("safety", "started"), ("safety", "done")]
    else:
        assert done["status"] == "blocked"
        assert done["reason"] == texts.text("llm_blocked", "en")
    await client.close()


async def test_every_smollm2_verdict_is_json(llama_server: LlamaServer) -> None:
    config = LLMInstanceConfig(
        name="llama", url=llama_server.url, dialect=Dialect.OPENAI, structured_output="json_object"
    )
    llm = create_llm_client(config)
    await llm.start()
    ideas = HARMLESS + UNSAFE
    try:
        verdicts = [parse_verdict((await llm.complete(verdict_request(t))).text) for t in ideas]
    finally:
        await llm.close()
    harmless, unsafe = verdicts[: len(HARMLESS)], verdicts[len(HARMLESS) :]
    print(
        f"\nSmolLM2 with the schema at kids: {sum(v.safe for v in harmless)} of {len(HARMLESS)} "
        f"harmless ideas safe, {sum(not v.safe for v in unsafe)} of {len(UNSAFE)} unsafe blocked"
    )
    for text, verdict in zip(ideas, verdicts, strict=True):
        print(f"  {text!r}: {verdict}")
    assert [v.read_as for v in verdicts] == ["json"] * len(ideas)
