"""Pure parts of the ComfyUI client: frames, error text, history outcomes, throttling."""

from __future__ import annotations

import json
import struct

import pytest

from server.engine.comfyui.errors import format_execution_error, format_node_errors
from server.engine.comfyui.events import JobState
from server.engine.comfyui.frames import (
    FrameError,
    encode_legacy_preview,
    encode_metadata_preview,
    parse_binary,
    parse_text,
)
from server.engine.comfyui.job import PreviewThrottle
from server.engine.comfyui.results import outcome_from_history
from server.engine.comfyui.upload import sniff_image
from tests.comfyui_support import transcript

JPEG = b"\xff\xd8\xff\xe0" + b"x" * 10


def test_legacy_frame_carries_format_and_image() -> None:
    frame = parse_binary(struct.pack(">II", 1, 1) + JPEG)
    assert frame is not None
    assert (frame.event_type, frame.mime, frame.image, frame.prompt_id) == (
        1,
        "image/jpeg",
        JPEG,
        None,
    )
    png = parse_binary(encode_legacy_preview(b"\x89PNG", "image/png"))
    assert png is not None
    assert png.mime == "image/png"


def test_metadata_frame_carries_prompt_and_node() -> None:
    meta = {
        "node_id": "6",
        "prompt_id": "p",
        "display_node_id": "6",
        "parent_node_id": None,
        "real_node_id": "6",
        "image_type": "image/jpeg",
    }
    frame = parse_binary(encode_metadata_preview(JPEG, meta))
    assert frame is not None
    assert (frame.event_type, frame.mime, frame.prompt_id, frame.node_id, frame.image) == (
        4,
        "image/jpeg",
        "p",
        "6",
        JPEG,
    )


def test_captured_frame_heads_decode() -> None:
    heads = [
        line["frame"]
        for name in ("ws_images.jsonl", "tiny_sd.jsonl")
        for line in transcript(name)
        if line["kind"] == "ws_bin"
    ]
    for head in heads:
        raw = bytes.fromhex(head["head_hex"])
        assert struct.unpack(">I", raw[:4])[0] == head["event_type"]
    legacy = next(h for h in heads if h["event_type"] == 1)
    parsed = parse_binary(bytes.fromhex(legacy["head_hex"]))
    assert parsed is not None
    assert parsed.mime == {"JPEG": "image/jpeg", "PNG": "image/png"}[legacy["image_format"]]


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\x00",
        struct.pack(">II", 1, 9),
        struct.pack(">II", 4, 999) + b"{}",
        struct.pack(">II", 4, 2) + b"[]",
    ],
)
def test_malformed_frames_raise_frame_error(raw: bytes) -> None:
    with pytest.raises(FrameError):
        parse_binary(raw)


def test_text_event_frames_are_ignored() -> None:
    assert parse_binary(struct.pack(">II", 3, 1) + b"6hello") is None


def test_every_captured_text_message_parses() -> None:
    for name in ("basic.jsonl", "interrupt.jsonl", "tiny_sd.jsonl", "invalid.jsonl"):
        for line in transcript(name):
            if line["kind"] == "ws":
                message = parse_text(json.dumps(line["msg"]))
                assert message.type == line["msg"]["type"]
    with pytest.raises(FrameError):
        parse_text("not json")
    with pytest.raises(FrameError):
        parse_text("[1]")


def test_node_errors_read_as_sentences() -> None:
    bodies = [
        line["response"]["body"]
        for line in transcript("invalid.jsonl")
        if line["kind"] == "http"
        and isinstance(line["response"].get("body"), dict)
        and line["response"]["body"].get("node_errors")
    ]
    text = format_node_errors(bodies[0])
    assert text == (
        "Prompt outputs failed validation; Node 1 (EmptyImage): width: Value 0 "
        "smaller than min of 1, batch_size: Value 5000 bigger than max of 4096"
    )
    assert (
        format_node_errors(
            {
                "error": {
                    "message": "Cannot execute because node NoSuchNode does not exist.",
                    "details": "Node ID '#2'",
                },
                "node_errors": {},
            }
        )
        == "Cannot execute because node NoSuchNode does not exist. (Node ID '#2')"
    )
    assert format_node_errors("garbage") == "ComfyUI rejected the workflow"


def test_history_outcomes_for_success_error_and_interrupt() -> None:
    histories = {}
    for name in ("basic.jsonl", "runtime_error.jsonl", "interrupt.jsonl"):
        for line in transcript(name):
            if line["kind"] == "http" and line["request"]["path"].startswith("/history/"):
                body = line["response"].get("body")
                if body:
                    histories[name] = next(iter(body.values()))
                    break
    ok = outcome_from_history(histories["basic.jsonl"])
    assert ok.success
    assert [(f.node, f.type) for f in ok.files] == [("3", "output")]  # temp previews skipped
    assert ok.files[0].local_name() == "3_capture_basic_00001_.png"
    err = outcome_from_history(histories["runtime_error.jsonl"])
    assert (err.success, err.code) == (False, "backend_execution_error")
    assert err.error == "Node 2 (UpscaleModelLoader) failed: IndexError: pop from empty list"
    stop = outcome_from_history(histories["interrupt.jsonl"])
    assert (stop.code, stop.error) == ("backend_interrupted", "interrupted at node 12 (ImageBlur)")


def test_output_names_cannot_escape_the_run_folder() -> None:
    from server.engine.comfyui.results import OutputFile

    assert OutputFile("9", "../../etc/passwd", "", "output").local_name() == "9_passwd"
    assert OutputFile("9", "..", "", "output").local_name() == "9_output"


def test_preview_throttle_allows_rate_per_second() -> None:
    now = [0.0]
    throttle = PreviewThrottle(2.0, lambda: now[0])
    seen = []
    for step in range(10):
        now[0] = step * 0.1
        seen.append(throttle.allow())
    assert seen == [True, False, False, False, False, True, False, False, False, False]


def test_job_states_refuse_illegal_transitions() -> None:
    assert JobState.QUEUED.can_become(JobState.RUNNING)
    assert not JobState.FINISHED.can_become(JobState.RUNNING)
    assert not JobState.SUBMITTING.can_become(JobState.RUNNING)


def test_execution_error_text() -> None:
    assert (
        format_execution_error(
            {
                "node_id": "3",
                "node_type": "KSampler",
                "exception_type": "RuntimeError",
                "exception_message": "boom\n",
            }
        )
        == "Node 3 (KSampler) failed: RuntimeError: boom"
    )


def test_upload_sniffing_accepts_images_only() -> None:
    assert sniff_image(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert sniff_image(JPEG) == "image/jpeg"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image(b"<html>") is None
