"""`/api/uploads` over real HTTP: the content decides (not the name or the type), a body over the
bound is refused while it streams, an upload is its owner's (and their teacher's) only, the
person's bounds hold, and a deleted upload is gone from the disk."""

from __future__ import annotations

import asyncio
import io
import threading

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from PIL import Image

from server.engine.uploads import store as store_module
from server.engine.uploads.clean import Cleaned, ImageBounds, clean
from tests.people_support import api_send, csrf_token, error_of, me, people_client
from tests.pictures_support import classroom
from tests.pipeline_support import StartPipeline
from tests.uploads_support import png_bytes, send_upload, upload_files, uploaded


async def guest_client(server: TestServer) -> ClientSession:
    http = people_client()
    await me(http, server)  # the guest cookie and the CSRF cookie
    return http


async def status_of(http: ClientSession, server: TestServer, path: str) -> int:
    async with http.get(server.make_url(path)) as response:
        return response.status


async def test_an_upload_is_cleaned_read_by_its_owner_only_and_deleted(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline()
    mika, noah = await guest_client(server), await guest_client(server)
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}
    photo = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 10, 10)).save(photo, "JPEG", exif=exif.tobytes())
    # A JPEG sent as "notes.txt", text/plain: the content decides.
    async with await send_upload(
        mika, server, photo.getvalue(), filename="notes.txt", content_type="text/plain"
    ) as response:
        assert response.status == 201, await response.text()
        info = await response.json()
        assert response.headers["Cache-Control"] == "no-store"
    assert (info["width"], info["height"]) == (300, 200)
    assert info["url"] == f"/api/uploads/{info['id']}"
    async with mika.get(server.make_url(info["url"])) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        with Image.open(io.BytesIO(await response.read())) as back:
            assert dict(back.getexif()) == {}
    assert await status_of(noah, server, info["url"]) == 404
    async with people_client() as nobody:
        assert await status_of(nobody, server, info["url"]) == 401
    async with await api_send(noah, server, "DELETE", info["url"]) as response:
        assert response.status == 404  # not Noah's to delete
    assert len(upload_files(server)) == 1
    async with await api_send(mika, server, "DELETE", info["url"]) as response:
        assert response.status == 204
    assert upload_files(server) == []
    assert await status_of(mika, server, info["url"]) == 404
    await mika.close()
    await noah.close()


async def test_what_is_no_picture_by_content_is_refused_whatever_it_is_called(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline()
    http = await guest_client(server)
    html = b"<!doctype html><script>alert(1)</script>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for data in (html, svg):
        async with await send_upload(http, server, data, filename="cat.png") as response:
            assert await error_of(response) == (415, "upload_not_image")
    bomb = bytearray(png_bytes((8, 8)))
    bomb[16:24] = (20_000).to_bytes(4, "big") * 2  # claims 20,000 x 20,000 (CRC now wrong)
    async with await send_upload(http, server, bytes(bomb)) as response:
        status, code = await error_of(response)
        assert status in (415, 422)
        assert code.startswith("upload_")
    async with await send_upload(http, server, png_bytes()[:60]) as response:
        assert (await error_of(response))[1] in ("upload_bad_image", "upload_not_image")
    async with await send_upload(http, server, png_bytes(), field="file") as response:
        assert await error_of(response) == (400, "invalid_field")
    async with http.post(server.make_url("/api/uploads"), data=png_bytes()) as response:
        assert response.status == 403  # no CSRF header: refused before anything is read
    raw = {"X-CSRF-Token": await csrf_token(http, server), "Content-Type": "image/png"}
    async with http.post(
        server.make_url("/api/uploads"), data=png_bytes(), headers=raw
    ) as response:
        assert await error_of(response) == (400, "invalid_field")  # not multipart
    assert upload_files(server) == []
    await http.close()


async def test_a_body_over_the_bound_is_refused_as_it_streams(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(max_upload_bytes=64 * 1024)
    http = await guest_client(server)
    async with await send_upload(http, server, b"\x89PNG\r\n\x1a\n" + bytes(200_000)) as response:
        assert await error_of(response) == (413, "upload_too_large")
    # Chunked, no length: claims 8 MiB, sends 200 KiB, and has its answer without sending more.
    cookies = "; ".join(f"{m.key}={m.value}" for m in http.cookie_jar)
    token = next(m.value for m in http.cookie_jar if m.key == "atelier_csrf")
    reader, writer = await asyncio.open_connection(server.host, server.port)
    head = (
        f"POST /api/uploads HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"Cookie: {cookies}\r\nX-CSRF-Token: {token}\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: multipart/form-data; boundary=XyZ\r\n\r\n"
    )
    part = b'--XyZ\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
    writer.write(head.encode() + _chunk(part))
    for _ in range(25):  # 200 KiB
        writer.write(_chunk(bytes(8192)))
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    assert b" 413 " in status_line
    writer.close()
    assert upload_files(server) == []
    await http.close()


async def test_a_body_that_stops_arriving_is_refused_after_the_upload_timeout(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(upload_timeout=0.3, body_timeout=60)
    http = await guest_client(server)
    cookies = "; ".join(f"{m.key}={m.value}" for m in http.cookie_jar)
    token = next(m.value for m in http.cookie_jar if m.key == "atelier_csrf")
    reader, writer = await asyncio.open_connection(server.host, server.port)
    head = (
        f"POST /api/uploads HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"Cookie: {cookies}\r\nX-CSRF-Token: {token}\r\nContent-Length: 100000\r\n"
        "Content-Type: multipart/form-data; boundary=XyZ\r\n\r\n"
    )
    writer.write(head.encode() + b'--XyZ\r\nContent-Disposition: form-data; name="image"\r\n\r\n')
    await writer.drain()  # ... and nothing more: a line that died
    status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    assert b" 408 " in status_line
    writer.close()
    async with await send_upload(http, server, png_bytes()) as response:
        assert response.status == 201  # its place was given back
    await http.close()


async def test_the_server_answers_while_an_upload_is_being_cleaned(
    start_pipeline: StartPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clean runs off the event loop: while one is held mid-decode, the server answers."""
    decoding, go_on = threading.Event(), threading.Event()

    def held_clean(data: bytes, bounds: ImageBounds) -> Cleaned:
        decoding.set()
        go_on.wait(timeout=30)
        return clean(data, bounds)

    monkeypatch.setattr(store_module, "clean", held_clean)
    server = await start_pipeline()
    http = await guest_client(server)
    sending = asyncio.create_task(uploaded(http, server))
    assert await asyncio.to_thread(decoding.wait, 30)
    assert await status_of(http, server, "/healthz") == 200  # the loop is free meanwhile
    assert not sending.done()
    go_on.set()
    assert (await sending)["width"] == 64
    await http.close()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def test_a_persons_uploads_are_bounded_held_and_per_minute(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(max_uploads_per_person=2, uploads_per_minute=3)
    mika, noah = await guest_client(server), await guest_client(server)
    first = await uploaded(mika, server)
    second = await uploaded(mika, server)
    async with await send_upload(mika, server, png_bytes()) as response:
        assert await error_of(response) == (429, "upload_limit")  # holds two
        assert "Retry-After" not in response.headers  # waiting does not help: removing does
    await uploaded(noah, server)  # Noah's bound is his own
    for upload in (first, second):
        async with await api_send(mika, server, "DELETE", upload["url"]) as response:
            assert response.status == 204
    await uploaded(mika, server)  # a place again: the third of this minute
    async with await send_upload(mika, server, png_bytes()) as response:
        assert await error_of(response) == (429, "upload_limit")  # the fourth this minute
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert len(upload_files(server)) == 2
    await mika.close()
    await noah.close()


async def test_the_teacher_of_the_class_reads_a_students_upload_nobody_else(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika", "Noah")
    other = await classroom(server, teacher="mr-kim")
    info = await uploaded(room.students["Mika"], server)
    assert await status_of(room.teacher, server, info["url"]) == 200
    assert await status_of(room.students["Noah"], server, info["url"]) == 404
    assert await status_of(other.teacher, server, info["url"]) == 404
    for reader in (room.teacher, room.students["Noah"]):  # reading is not deleting
        async with await api_send(reader, server, "DELETE", info["url"]) as response:
            assert response.status == 404
    assert await status_of(room.students["Mika"], server, info["url"]) == 200
    nobody = people_client()
    async with await send_upload(nobody, server, png_bytes()) as response:
        assert await error_of(response) == (401, "join_required")
    await nobody.close()
    await room.close()
    await other.close()
