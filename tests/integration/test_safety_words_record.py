"""A run blocked by the word list over real sockets: the child reads no word, the record has it."""

from __future__ import annotations

import orjson

from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    events_of,
    record_of,
    run_done,
    start_run,
)


async def test_a_disguised_word_blocks_and_only_the_record_names_it(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="kids")
    client = await connected(server)
    # Cyrillic і, spaced and stretched letters: "kill" and "gun" in disguise.
    run = await start_run(client, "a knight who wants to kііill with a g.u.n", lang="en")
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    seen = orjson.dumps(events_of(client, run)).decode()
    assert "kill" not in seen
    assert "gun" not in seen
    assert "word list" not in seen
    record = record_of(server, run)
    assert record["verdicts"]["safety"] == {"safe": False, "answer": "word list: kill"}
    await client.close()
    assert_nothing_left(server)
