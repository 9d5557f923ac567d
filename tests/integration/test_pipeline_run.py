"""Whole runs over a real WebSocket against the in-process simulators."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import ClientSession

from server.harness.llm_sim.demo_text import reimagine
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    events_of,
    pipeline_of,
    run_done,
    stage_trail,
    start_run,
)


async def test_full_run_streams_every_stage_in_order_and_stores_the_image(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline()
    client = await connected(server)
    run = await start_run(client, "ein roter Fuchs im Schnee", "bauhaus", seed=42, lang="de")
    done = await run_done(client, run)
    assert done["status"] == "completed"
    assert stage_trail(client, run) == [
        ("safety", "started"),
        ("safety", "done"),
        ("interception", "started"),
        ("interception", "done"),
        ("translation", "started"),
        ("translation", "done"),
        ("generation", "started"),
        ("generation", "checking"),  # kids, the default: the vision check (test_vision_check)
        ("generation", "done"),
    ]
    events = events_of(client, run)
    kinds = [m["type"] for m in events]
    assert kinds[0] == "run.accepted"
    assert kinds[-1] == "run.done"
    # tokens of stage 2 arrive between its started and done, and add up to its text
    stages = [m for m in events if m["type"] == "stage"]
    interception_text = next(
        m["text"] for m in stages if m["stage"] == "interception" and m["status"] == "done"
    )
    tokens = [m["text"] for m in events if m["type"] == "token" and m["stage"] == "interception"]
    assert len(tokens) > 3
    assert "".join(tokens).strip() == interception_text
    assert interception_text == reimagine("bauhaus", "ein roter Fuchs im Schnee")
    translated = next(m for m in stages if m["stage"] == "translation" and m["status"] == "done")
    assert translated["text"] == reimagine("bauhaus", "a red fox in the snow")  # all English
    assert translated["detail"]["translated"] is True
    generation = next(m for m in stages if m["stage"] == "generation" and m["status"] == "started")
    assert generation["detail"]["seed"] == 42
    assert generation["detail"]["loras"] == ["bauhaus_style_v1.safetensors"]
    progress = [(m["value"], m["max"]) for m in events if m["type"] == "progress"]
    assert progress
    assert progress[-1][0] == progress[-1][1]
    [output] = [m for m in events if m["type"] == "output"]
    assert set(done["timings"]) == {"safety", "interception", "translation", "generation"}
    async with ClientSession() as http:
        image = await http.get(server.make_url(output["url"]))
        assert image.status == 200
        assert image.headers["Content-Type"] == "image/png"
        assert (await image.read()).startswith(b"\x89PNG\r\n\x1a\n")
    record_path = pipeline_of(server).services.records.run_dir(run) / "record.json"
    record = orjson.loads(record_path.read_bytes())
    assert record["status"] == "completed"
    assert record["inputs"]["seed"] == 42
    assert record["texts"]["translation"] == translated["text"]
    assert record["verdicts"]["safety"]["safe"] is True
    assert_nothing_left(server)


async def test_catalog_is_listed_in_both_languages(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline()
    async with ClientSession() as http:
        de = await (await http.get(server.make_url("/api/catalog?lang=de"))).json()
        en = await (await http.get(server.make_url("/api/catalog?lang=en"))).json()
    assert len(de["interceptions"]) >= 8
    names_de = {i["id"]: i["name"] for i in de["interceptions"]}
    names_en = {i["id"]: i["name"] for i in en["interceptions"]}
    assert names_de.keys() == names_en.keys()
    assert names_de != names_en


async def test_media_paths_cannot_escape_the_run_folder(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline()
    async with ClientSession() as http:
        for path in (
            "/media/r-abcdefgh/..%2Frecord.json",
            "/media/r-abcdefgh/record.json",
            "/media/..%2F..%2Fetc/passwd.png",
            "/media/r-abcdefgh/missing.png",
        ):
            response = await http.get(server.make_url(path))
            assert response.status == 404, path


async def test_edited_meta_prompt_stays_in_its_own_run(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline()
    editor, other = await connected(server), await connected(server)
    original = pipeline_of(server).services.catalog.interceptions["bauhaus"].meta_prompt
    edited_run = await start_run(
        editor, "a lighthouse", "bauhaus", meta_prompt="Describe it as a pirate would."
    )
    plain_run = await start_run(other, "a lighthouse", "bauhaus")
    await asyncio.gather(run_done(editor, edited_run), run_done(other, plain_run))

    def interception_text(client_messages: Sequence[dict[str, object]]) -> object:
        return next(
            m["text"]
            for m in client_messages
            if m["type"] == "stage" and m["stage"] == "interception" and m["status"] == "done"
        )

    assert interception_text(events_of(editor, edited_run)) == reimagine(None, "a lighthouse")
    assert interception_text(events_of(other, plain_run)) == reimagine("bauhaus", "a lighthouse")
    assert pipeline_of(server).services.catalog.interceptions["bauhaus"].meta_prompt == original
    records = pipeline_of(server).services.records
    edited = orjson.loads((records.run_dir(edited_run) / "record.json").read_bytes())
    plain = orjson.loads((records.run_dir(plain_run) / "record.json").read_bytes())
    assert edited["inputs"]["meta_prompt"] == "Describe it as a pirate would."
    assert plain["inputs"]["meta_prompt"] is None


async def test_passthrough_skips_interception(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="adult")
    client = await connected(server)
    run = await start_run(client, "a quiet harbour at dawn", "passthrough")
    assert (await run_done(client, run))["status"] == "completed"
    trail = stage_trail(client, run)
    assert ("interception", "skipped") in trail
    assert ("translation", "done") in trail


async def test_bad_run_requests_get_clear_errors(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(max_prompt_chars=50)
    client = await connected(server)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"prompt": "x", "interception": "no_such_perspective"}, "unknown_config"),
        ({"prompt": "x", "interception": "bauhaus", "output": "no_such_output"}, "unknown_config"),
        ({"prompt": "x" * 51, "interception": "bauhaus"}, "invalid_field"),
        ({"prompt": "   ", "interception": "bauhaus"}, "invalid_field"),
        ({"prompt": "x", "interception": "bauhaus", "width": 100}, "invalid_field"),
    ]
    for fields, code in cases:
        await client.send({"type": "run.start", "ref": code, **fields})
        error = await client.wait_for(lambda m: m["type"] == "error")
        assert (error["code"], error["ref"]) == (code, code), fields
    await client.send({"type": "run.cancel", "run": "r-notmine123"})
    assert (await client.wait_for(lambda m: m["type"] == "error"))["code"] == "unknown_run"


async def test_perspective_loras_on_a_model_free_workflow_become_a_warning(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult")
    client = await connected(server)
    run = await start_run(client, "a quiet harbour", "bauhaus", output="model_free")
    assert (await run_done(client, run))["status"] == "completed"
    started = next(
        m
        for m in events_of(client, run)
        if m["type"] == "stage" and m["stage"] == "generation" and m["status"] == "started"
    )
    assert started["detail"]["loras"] == []
    assert "no checkpoint or UNet loader" in started["detail"]["warnings"][0]
