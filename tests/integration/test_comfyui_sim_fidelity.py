"""The simulator against every captured transcript in shared/reference/comfyui/.

Each test replays a transcript's requests on a real socket and compares message types,
field names and order (ids, timestamps and file names differ by nature)."""

from __future__ import annotations

import asyncio
from typing import Any

from server.engine.comfyui.frames import PreviewFrame
from tests.comfyui_support import (
    TIMEOUT,
    SimHarness,
    harness,
    posted,
    prompt_ids,
    shape,
    timeline,
    transcript,
    ws_messages,
)

__all__ = ["harness"]


def _only(lines: list[dict[str, Any]], path: str, **params: str) -> dict[str, Any]:
    return next(
        line["response"]
        for line in lines
        if line["kind"] == "http"
        and line["request"]["path"] == path
        and all(line["request"].get("params", {}).get(k) == v for k, v in params.items())
    )


async def _history_done(h: SimHarness, prompt_id: str) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        while True:
            _, body = await h.get(f"/history/{prompt_id}")
            if body:
                entry: dict[str, Any] = body[prompt_id]
                return entry
            await asyncio.sleep(0.01)


async def test_basic_runs_send_the_captured_sequence_including_cached_reruns(
    harness: SimHarness,
) -> None:
    lines = transcript("basic.jsonl")
    ref = ws_messages(lines, "A")
    rec = await harness.record("aa61c212856b4a56b133ccb8cffe29f6")
    ours = []
    for exchange in posted(lines):
        status, body = await harness.post("/prompt", exchange["request"]["json"])
        assert status == 200
        assert body["node_errors"] == {}
        assert set(body) == set(exchange["response"]["body"])
        ours.append(body["prompt_id"])
        await rec.wait_done(body["prompt_id"])
    assert ours[2] == prompt_ids(lines)[2]  # a user-chosen prompt_id is used as given
    assert shape(rec.texts) == shape(ref)
    first = [m["data"] for m in rec.texts if m["type"] == "executed"]
    assert first[0]["output"] == first[2]["output"]  # the cached rerun re-sends old names
    assert first[0]["output"]["images"][0]["type"] == "temp"


async def test_basic_history_and_view_answer_like_comfyui(harness: SimHarness) -> None:
    lines = transcript("basic.jsonl")
    rec = await harness.record("aa61c212856b4a56b133ccb8cffe29f6")
    _, body = await harness.post("/prompt", posted(lines)[0]["request"]["json"])
    pid = body["prompt_id"]
    await rec.wait_done(pid)
    _, history = await harness.get(f"/history/{pid}")
    ref_pid = prompt_ids(lines)[0]
    ref_entry = _only(lines, f"/history/{ref_pid}")["body"][ref_pid]
    entry = history[pid]
    assert set(entry) == set(ref_entry)
    assert entry["status"]["status_str"] == "success"
    assert [m[0] for m in entry["status"]["messages"]] == [
        m[0] for m in ref_entry["status"]["messages"]
    ]
    assert len(entry["prompt"]) == 5
    assert set(entry["outputs"]) == set(ref_entry["outputs"])
    saved = entry["outputs"]["3"]["images"][0]
    assert saved["filename"] == "capture_basic_00001_.png"
    async with harness.session.get(harness.url + "/view", params=saved) as response:
        assert response.status == 200
        assert response.content_type == "image/png"
        assert response.headers["Content-Disposition"] == 'filename="capture_basic_00001_.png"'
        assert (await response.read())[:8] == bytes.fromhex("89504e470d0a1a0a")
    assert (await harness.get("/view", filename="does-not-exist.png"))[0] == 404
    assert (await harness.get("/view", filename="../secret.png"))[0] == 400
    assert await harness.get("/history/not-a-real-prompt-id") == (200, {})
    assert await harness.get("/queue") == (200, {"queue_running": [], "queue_pending": []})
    assert await harness.get("/prompt") == (200, {"exec_info": {"queue_remaining": 0}})
    _, last = await harness.get("/history", max_items="1")
    assert list(last) == [pid]


def _error_summary(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    node_errors = {
        nid: (
            info["class_type"],
            info["dependent_outputs"],
            [
                (e["type"], e["message"], e["details"], sorted(e["extra_info"]))
                for e in info["errors"]
            ],
        )
        for nid, info in body.get("node_errors", {}).items()
    }
    error = body.get("error")
    return (error and {k: error[k] for k in ("type", "message", "details")}, node_errors)


async def test_every_invalid_submission_gets_the_captured_status_and_error_shape(
    harness: SimHarness,
) -> None:
    lines = transcript("invalid.jsonl")
    rec = await harness.record("920558143c9e4e38bc992eb0bfe7d4fe")
    for exchange in posted(lines):
        request, ref = exchange["request"], exchange["response"]
        if "json" in request:
            status, body = await harness.post("/prompt", request["json"])
        else:
            async with harness.session.post(
                harness.url + "/prompt", data=request["raw_body"]
            ) as response:
                status, body = response.status, (await response.read()).decode()
        assert status == ref["status"], request
        expected = ref.get("body", ref.get("body_text"))
        assert _error_summary(body) == _error_summary(expected), request
        if status == 200:
            await rec.wait_done(body["prompt_id"])


async def test_runtime_error_sends_execution_error_and_records_it_in_history(
    harness: SimHarness,
) -> None:
    lines = transcript("runtime_error.jsonl")
    ref = ws_messages(lines, "A")
    rec = await harness.record("9929897d89ab49c8a8d90a0018fc715c")
    for exchange, ref_pid in zip(posted(lines), prompt_ids(lines), strict=True):
        _, body = await harness.post("/prompt", exchange["request"]["json"])
        await rec.wait_done(body["prompt_id"])
        assert shape(rec.texts, body["prompt_id"]) == shape(ref, ref_pid)
    error = next(m["data"] for m in rec.texts if m["type"] == "execution_error")
    ref_error = next(m["data"] for m in ref if m["type"] == "execution_error")
    assert set(error) == set(ref_error)
    assert (error["exception_type"], error["exception_message"], error["node_type"]) == (
        "IndexError",
        "pop from empty list\n",
        "UpscaleModelLoader",
    )
    entry = await _history_done(harness, error["prompt_id"])
    assert entry["status"]["status_str"] == "error"
    assert entry["status"]["completed"] is False
    assert entry["status"]["messages"][-1][0] == "execution_error"
    assert entry["outputs"] == {}


async def test_interrupts_take_effect_at_the_next_node_or_step_as_captured(
    harness: SimHarness,
) -> None:
    lines = transcript("interrupt.jsonl")
    ref = ws_messages(lines, "A")
    ref_pids = prompt_ids(lines)
    graphs = [exchange["request"]["json"] for exchange in posted(lines)]
    rec = await harness.record("3b651f0b762849609dd086a78fa78804")
    sim = harness.sim

    # 1. global interrupt (empty body) while node 11 runs: 11 finishes, 12 is interrupted.
    held = sim.hold_after(2)
    _, body = await harness.post("/prompt", graphs[0])
    await asyncio.wait_for(held.wait(), TIMEOUT)
    async with harness.session.post(harness.url + "/interrupt") as response:
        assert response.status == 200
    sim.release()
    await rec.wait_done(body["prompt_id"])
    assert shape(rec.texts, body["prompt_id"]) == shape(ref, ref_pids[0])

    # 2. another prompt's id is ignored; the running prompt's id interrupts it.
    held = sim.hold_after(1)
    _, body = await harness.post("/prompt", graphs[1])
    await asyncio.wait_for(held.wait(), TIMEOUT)
    await harness.post("/interrupt", {"prompt_id": "00000000-0000-0000-0000-000000000000"})
    held = sim.hold_after(2)
    sim.release()
    await asyncio.wait_for(held.wait(), TIMEOUT)
    await harness.post("/interrupt", {"prompt_id": body["prompt_id"]})
    sim.release()
    await rec.wait_done(body["prompt_id"])
    assert shape(rec.texts, body["prompt_id"]) == shape(ref, ref_pids[1])

    # 3. mid-node, during tile progress: no further progress after the interrupt.
    held = sim.hold_after(3)
    _, body = await harness.post("/prompt", graphs[2])
    await asyncio.wait_for(held.wait(), TIMEOUT)
    await harness.post("/interrupt", {"prompt_id": body["prompt_id"]})
    sim.release()
    await rec.wait_done(body["prompt_id"])
    assert shape(rec.texts, body["prompt_id"]) == shape(ref, ref_pids[2])
    interrupted = [m["data"] for m in rec.texts if m["type"] == "execution_interrupted"]
    ref_interrupted = [m["data"] for m in ref if m["type"] == "execution_interrupted"]
    assert [set(d) for d in interrupted] == [set(d) for d in ref_interrupted]
    assert [d["node_id"] for d in interrupted] == [d["node_id"] for d in ref_interrupted]
    assert sorted(interrupted[0]["executed"]) == sorted(ref_interrupted[0]["executed"])
    entry = await _history_done(harness, body["prompt_id"])
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"
    assert sim.interrupted == 3

    # 4. nothing runs: still 200, and the next prompt is not poisoned.
    async with harness.session.post(harness.url + "/interrupt") as response:
        assert response.status == 200


async def test_queue_orders_by_number_deletes_and_clears_as_captured(
    harness: SimHarness,
) -> None:
    lines = transcript("queue.jsonl")
    graphs = [exchange["request"]["json"] for exchange in posted(lines)]
    rec = await harness.record("df709bdfe6dc48a78c1f1866c8b2f688")
    sim = harness.sim
    held = sim.hold_after(1)
    _, a = await harness.post("/prompt", graphs[0])
    await asyncio.wait_for(held.wait(), TIMEOUT)
    _, b = await harness.post("/prompt", graphs[1])
    _, c = await harness.post("/prompt", graphs[2])
    _, d = await harness.post("/prompt", graphs[3])
    _, e = await harness.post("/prompt", graphs[4])
    assert d["number"] < 0 < b["number"] < c["number"]
    assert e["number"] == -1000.0
    _, queue = await harness.get("/queue")
    assert [item[1] for item in queue["queue_running"]] == [a["prompt_id"]]
    assert all(len(item) == 5 for item in queue["queue_pending"])
    pending = sorted(queue["queue_pending"], key=lambda item: item[0])
    assert [item[1] for item in pending] == [p["prompt_id"] for p in (e, d, b, c)]
    assert await harness.get("/prompt") == (200, {"exec_info": {"queue_remaining": 5}})
    assert await harness.post("/queue", {"delete": [c["prompt_id"]]}) == (200, None)
    assert await harness.post("/queue", {"delete": ["not-a-queued-id"]}) == (200, None)
    assert await harness.post("/interrupt", {}) == (200, None)
    sim.release()
    await rec.wait_done(b["prompt_id"])
    started = [m["data"]["prompt_id"] for m in rec.texts if m["type"] == "execution_start"]
    assert started == [p["prompt_id"] for p in (a, e, d, b)]
    statuses = [
        m["data"]["status"]["exec_info"]["queue_remaining"]
        for m in rec.texts
        if m["type"] == "status"
    ]
    assert statuses[:7] == [0, 1, 1, 2, 3, 4, 5]  # greeting, put, get, four puts
    assert 4 in statuses[7:8]  # the delete broadcast

    held = sim.hold_after(1)
    _, f = await harness.post("/prompt", graphs[5])
    await asyncio.wait_for(held.wait(), TIMEOUT)
    await harness.post("/prompt", graphs[6])
    await harness.post("/prompt", graphs[7])
    assert await harness.post("/queue", {"clear": True}) == (200, None)
    _, queue = await harness.get("/queue")
    assert queue["queue_pending"] == []
    await harness.post("/interrupt", {})
    sim.release()
    await rec.wait_done(f["prompt_id"])
    assert sim.deleted == 3
    assert await harness.post("/history", {"delete": [b["prompt_id"]]}) == (200, None)
    assert await harness.get(f"/history/{b['prompt_id']}") == (200, {})


async def test_preview_frames_use_event_1_or_event_4_after_negotiation(
    harness: SimHarness,
) -> None:
    lines = transcript("ws_images.jsonl")
    graphs = [exchange["request"]["json"] for exchange in posted(lines)]
    legacy = await harness.record(graphs[0]["client_id"])
    meta = await harness.record(graphs[1]["client_id"], flags=True)
    assert meta.texts[1]["data"] == ws_messages(lines, "meta")[1]["data"]
    for graph in graphs:
        _, body = await harness.post("/prompt", graph)
        rec = legacy if graph is graphs[0] else meta
        await rec.wait_done(body["prompt_id"])
    await asyncio.sleep(0)
    assert legacy.timeline() == timeline(lines, "legacy")
    assert meta.timeline() == timeline(lines, "meta")
    old = [i for i in legacy.items if isinstance(i, PreviewFrame)]
    new = [i for i in meta.items if isinstance(i, PreviewFrame)]
    assert {(f.event_type, f.mime, f.prompt_id) for f in old} == {(1, "image/png", None)}
    assert {(f.event_type, f.node_id) for f in new} == {(4, "2")}
    assert all(f.image[:4] == b"\x89PNG" for f in old + new)


async def test_tile_progress_counts_one_to_max(harness: SimHarness) -> None:
    lines = transcript("upscale_progress.jsonl")
    rec = await harness.record("68b0a8bcdf50425d8e3362612fb7909e")
    _, body = await harness.post("/prompt", posted(lines)[0]["request"]["json"])
    await rec.wait_done(body["prompt_id"])
    assert shape(rec.texts) == shape(ws_messages(lines, "A"))
    progress = [m["data"] for m in rec.texts if m["type"] == "progress"]
    ref = [m["data"] for m in ws_messages(lines, "A") if m["type"] == "progress"]
    assert [(p["value"], p["max"], p["node"]) for p in progress] == [
        (p["value"], p["max"], p["node"]) for p in ref
    ]
    assert [set(p) for p in progress] == [set(p) for p in ref]


async def test_prompt_without_client_id_reaches_sockets_only_as_broadcasts(
    harness: SimHarness,
) -> None:
    lines = transcript("no_client_id.jsonl")
    graphs = [exchange["request"]["json"] for exchange in posted(lines)]
    listener = await harness.record("eaaa60f884d34d648d5eeb3e826779af")
    other = await harness.record()
    _, body = await harness.post("/prompt", graphs[0])
    await _history_done(harness, body["prompt_id"])
    for rec in (listener, other):  # greeting, put, get, done
        await rec.wait_count("status", 4)
    kinds = {"status", "progress_state"}
    assert set(shape(listener.texts)) == kinds
    assert set(shape(other.texts)) == kinds
    _, body = await harness.post("/prompt", graphs[1])
    await listener.wait_done(body["prompt_id"])
    ref = ws_messages(lines, "listener")
    assert shape(listener.texts, body["prompt_id"]) == shape(ref, prompt_ids(lines)[1])
    assert set(shape(other.texts)) == kinds


async def _upload(
    h: SimHarness, fields: dict[str, str], image: bytes | None, name: str = "capture_upload.png"
) -> tuple[int, Any]:
    import aiohttp

    form = aiohttp.FormData()
    if image is not None:
        form.add_field("image", image, filename=name, content_type="image/png")
    for key, value in fields.items():
        form.add_field(key, value)
    async with h.session.post(h.url + "/upload/image", data=form) as response:
        body = await response.read()
        return response.status, (await response.json()) if body else None


async def test_uploads_dedup_rename_refuse_and_feed_load_image(harness: SimHarness) -> None:
    from server.harness.comfyui_sim.png import gradient_png

    lines = transcript("upload.jsonl")
    answers = [
        line["response"]
        for line in lines
        if line["kind"] == "http" and line["request"]["path"] == "/upload/image"
    ]
    one, two = gradient_png(8, 8, "one"), gradient_png(8, 8, "two")
    got = [
        await _upload(
            harness, {"overwrite": "true", "subfolder": "captures", "type": "input"}, one
        ),
        await _upload(harness, {"subfolder": "captures"}, one),
        await _upload(harness, {"subfolder": "captures"}, two),
        await _upload(harness, {"overwrite": "true"}, one, "capture_upload_root.png"),
        await _upload(harness, {"type": "input"}, None),
        await _upload(harness, {"subfolder": "../../etc"}, one),
    ]
    assert got == [(a["status"], a.get("body")) for a in answers]
    status, data = await harness.get(
        "/view", filename="capture_upload.png", subfolder="captures", type="input"
    )
    assert (status, data) == (200, one)
    rec = await harness.record("ccf4e3081cfe412b82eb24960ebe91b6")
    _, body = await harness.post("/prompt", posted(lines)[0]["request"]["json"])
    await rec.wait_done(body["prompt_id"])
    assert shape(rec.texts, body["prompt_id"]) == shape(
        ws_messages(lines, "A"), prompt_ids(lines)[0]
    )
    status, _ = await harness.get("/view", filename="capture_upload_out_00001_.png")
    assert status == 200


async def test_same_client_id_reconnect_leaves_the_new_socket_deaf(harness: SimHarness) -> None:
    lines = transcript("reconnect.jsonl")
    graphs = [exchange["request"]["json"] for exchange in posted(lines)]
    old = await harness.record("reconnect-33023666")
    new = await harness.record("reconnect-33023666")
    await old.ws.close()
    assert old.task is not None
    await old.task
    # The server side of `old` must have finished its cleanup before we submit.
    await asyncio.wait_for(harness.sim.wait_until(lambda: harness.sim.active_sockets == 1), TIMEOUT)
    _, body = await harness.post("/prompt", graphs[0])
    await _history_done(harness, body["prompt_id"])
    third = await harness.record("reconnect-33023666")
    _, body = await harness.post("/prompt", graphs[1])
    await third.wait_done(body["prompt_id"])
    assert shape(new.texts) == ["status"]  # only its own greeting, as captured
    assert shape(third.texts) == shape(ws_messages(lines, "third"))


async def test_info_routes_and_socket_greetings_match_misc(harness: SimHarness) -> None:
    lines = transcript("misc.jsonl")
    _, stats = await harness.get("/system_stats")
    ref_stats = _only(lines, "/system_stats")["body"]
    assert set(stats) == set(ref_stats)
    assert set(stats["system"]) <= set(ref_stats["system"])
    assert set(stats["devices"][0]) == set(ref_stats["devices"][0])
    assert await harness.get("/features") == (200, _only(lines, "/features")["body"])
    _, folders = await harness.get("/models")
    assert {"checkpoints", "loras", "vae", "upscale_models"} <= set(folders)
    assert (await harness.get("/models/upscale_models"))[1] == _only(
        lines, "/models/upscale_models"
    )["body"]
    assert (await harness.get("/models/nope"))[0] == 404
    assert await harness.get("/embeddings") == (200, [])
    for cls in ("EmptyImage", "LoadImage"):
        assert (await harness.get(f"/object_info/{cls}"))[1] == _only(lines, f"/object_info/{cls}")[
            "body"
        ]
    assert await harness.get("/object_info/NoSuchNode") == (200, {})
    assert (await harness.get("/api/system_stats"))[0] == 200
    _, info = await harness.get("/object_info")
    assert "UpscaleModelLoader" in info
    combo = info["UpscaleModelLoader"]["input"]["required"]["model_name"]
    assert (
        combo
        == _only(lines, "/object_info/UpscaleModelLoader")["body"]["UpscaleModelLoader"]["input"][
            "required"
        ]["model_name"]
    )
    fixed = await harness.record("fixed-client-id-1")
    anonymous = await harness.record()
    assert fixed.texts[0]["data"]["sid"] == "fixed-client-id-1"
    assert len(anonymous.texts[0]["data"]["sid"]) == 32
    await anonymous.ws.send_str("not json at all")
    assert await harness.post("/free", {"unload_models": True, "free_memory": True}) == (200, None)
    assert not anonymous.ws.closed
    async with harness.session.post(
        harness.url + "/prompt", json={}, headers={"Origin": "http://evil.example"}
    ) as response:
        assert response.status == 403


async def test_sampler_steps_send_progress_and_previews_in_both_formats(
    harness: SimHarness,
) -> None:
    lines = transcript("tiny_sd.jsonl")
    graphs = [exchange["request"]["json"] for exchange in posted(lines)]
    legacy = await harness.record(graphs[0]["client_id"])
    meta = await harness.record(graphs[1]["client_id"], flags=True)
    for graph in graphs[:2]:
        _, body = await harness.post("/prompt", graph)
        await (legacy if graph is graphs[0] else meta).wait_done(body["prompt_id"])
    held = harness.sim.hold_after(3)
    _, body = await harness.post("/prompt", graphs[2])
    await asyncio.wait_for(held.wait(), TIMEOUT)
    await harness.post("/interrupt", {"prompt_id": body["prompt_id"]})
    harness.sim.release()
    await legacy.wait_done(body["prompt_id"])
    await meta.wait_count("status", 9)  # the last run's final broadcast reached both
    assert legacy.timeline() == timeline(lines, "legacy")
    assert meta.timeline() == timeline(lines, "meta")
    ref_meta = next(
        line["frame"]["metadata"]
        for line in lines
        if line["kind"] == "ws_bin" and line["ws"] == "meta"
    )
    frame = next(i for i in meta.items if isinstance(i, PreviewFrame))
    assert frame.prompt_id is not None
    assert frame.node_id == ref_meta["node_id"]
