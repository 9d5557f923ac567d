"""The NDJSON and SSE decoders give the same items however the bytes are split into reads."""

from __future__ import annotations

import itertools

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.engine.llm.decoders import DecodeError, NdjsonDecoder, SseDecoder, SseEvent

# Text that exercises 2-, 3- and 4-byte UTF-8 sequences, and HTML characters Go escapes.
TEXTS = st.text(alphabet=st.sampled_from([*list('ab <>&"\\é€日本語🎨🦊\u2028'), "\t"]), max_size=12)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def ndjson_items(decoder: NdjsonDecoder, chunks: list[bytes]) -> list[object]:
    items: list[object] = []
    for chunk in chunks:
        items += decoder.decode(chunk)
    return items + decoder.flush()


def sse_events(decoder: SseDecoder, chunks: list[bytes]) -> list[SseEvent]:
    events: list[SseEvent] = []
    for chunk in chunks:
        events += decoder.decode(chunk)
    return events + decoder.flush()


@given(st.lists(TEXTS, max_size=8), st.lists(st.integers(0, 10_000), max_size=20))
def test_ndjson_lines_survive_any_split_including_multibyte_characters(
    texts: list[str], cuts: list[int]
) -> None:
    lines = [{"message": {"content": t}, "done": False} for t in texts]
    data = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    assert ndjson_items(NdjsonDecoder(), split_at(data, cuts)) == lines


def test_ndjson_every_single_cut_point_of_a_multibyte_line_decodes_the_same() -> None:
    data = orjson.dumps({"content": "日本🎨"}) + b"\n" + orjson.dumps({"done": True}) + b"\n"
    for cut in range(len(data) + 1):
        assert ndjson_items(NdjsonDecoder(), [data[:cut], data[cut:]]) == [
            {"content": "日本🎨"},
            {"done": True},
        ]


def test_ndjson_byte_by_byte_feeding_decodes_the_same() -> None:
    data = b'{"a":"\xc3\xa9"}\n\n{"b":2}\n'
    assert ndjson_items(NdjsonDecoder(), [data[i : i + 1] for i in range(len(data))]) == [
        {"a": "é"},
        {"b": 2},
    ]


def test_ndjson_last_line_without_newline_is_parsed_at_flush() -> None:
    decoder = NdjsonDecoder()
    assert decoder.decode(b'{"a":1}\n{"b":') == [{"a": 1}]
    assert decoder.decode(b"2}") == []
    assert decoder.flush() == [{"b": 2}]


def test_ndjson_cut_off_last_line_fails_at_flush() -> None:
    decoder = NdjsonDecoder()
    decoder.decode(b'{"message":{"content":"hal')
    with pytest.raises(DecodeError):
        decoder.flush()


def test_ndjson_invalid_line_raises_decode_error() -> None:
    with pytest.raises(DecodeError):
        NdjsonDecoder().decode(b"not json\n")


def test_ndjson_line_longer_than_the_bound_raises() -> None:
    decoder = NdjsonDecoder(max_line_bytes=1024)
    decoder.decode(b"x" * 1000)
    with pytest.raises(DecodeError, match="longer than 1024"):
        decoder.decode(b"x" * 100)


SEPARATORS = st.sampled_from(["\n", "\r\n", "\r"])


@given(
    st.lists(TEXTS, min_size=1, max_size=6),
    SEPARATORS,
    st.lists(st.integers(0, 10_000), max_size=20),
    st.booleans(),
)
def test_sse_events_survive_any_split_with_any_line_ending(
    texts: list[str], sep: str, cuts: list[int], pings: bool
) -> None:
    texts = [t.replace("\r", "").replace("\n", "") for t in texts]
    body = ""
    for text in texts:
        if pings:
            body += f": ping - 2026-11-21 04:26:35.145864+00:00{sep}{sep}"
        body += f"data: {text}{sep}{sep}"
    decoder = SseDecoder()
    events = sse_events(decoder, split_at(body.encode(), cuts))
    assert [e.data for e in events] == texts
    assert decoder.comments == (len(texts) if pings else 0)


def test_sse_crlf_split_between_cr_and_lf_is_one_line_ending() -> None:
    decoder = SseDecoder()
    assert decoder.decode(b"data: a\r") == []
    assert decoder.decode(b"\n\r") == []
    assert decoder.decode(b"\n") == [SseEvent("a")]


def test_sse_multiple_data_lines_join_with_newline_and_fields_are_kept() -> None:
    body = b"event: error\nid: 7\ndata: one\ndata:two\nretry: 5\n\n"
    assert SseDecoder().decode(body) == [SseEvent("one\ntwo", "error", "7")]


def test_sse_event_without_final_blank_line_is_dispatched_at_flush() -> None:
    decoder = SseDecoder()
    assert decoder.decode(b"data: [DONE]\n") == []
    assert decoder.flush() == [SseEvent("[DONE]")]


def test_sse_invalid_utf8_raises_decode_error() -> None:
    with pytest.raises(DecodeError):
        SseDecoder().decode(b"data: \xff\xfe\n\n")


def test_sse_line_longer_than_the_bound_raises() -> None:
    with pytest.raises(DecodeError):
        SseDecoder(max_line_bytes=1024).decode(b"data: " + b"x" * 2000)
