"""Students and classes in real Chromium: joining with a code, keeping the pictures across
tabs, the messages a child reads when a code or a nickname does not work, and deleting."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import TABLET, OpenPage
from tests.browser.test_browser_teacher import WATCH_CSP, csp_violations
from tests.browser_support import (
    WAIT_MS,
    assert_nothing_technical,
    connected,
    screenshot,
    start_run,
    ui_strings,
)
from tests.people_support import api_json, create_class, logged_in_teacher, people_of
from tests.pipeline_support import StartPipeline

pytestmark = pytest.mark.browser


@pytest.fixture
async def teacher_and_code(
    start_pipeline: StartPipeline,
) -> AsyncIterator[tuple[TestServer, ClientSession, dict[str, object]]]:
    """A server in `codes` mode, a logged-in teacher's HTTP client, and their class."""
    server = await start_pipeline(safety_level="adult", access="codes")
    teacher = await logged_in_teacher(server)
    try:
        yield server, teacher, await create_class(teacher, server, "4b")
    finally:
        await teacher.close()


async def join(page: Page, code: str, nickname: str) -> None:
    await page.get_by_label("Class code").fill(code)
    await page.get_by_label("Nickname").fill(nickname)
    await page.get_by_role("button", name="Join", exact=True).click()


async def tab(context: BrowserContext, server: TestServer, errors: list[str]) -> Page:
    """A new tab of the same browser (the same cookies), on the students' page."""
    page = await context.new_page()
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"http://{server.host}:{server.port}/")
    return page


async def test_a_student_joins_makes_a_picture_and_finds_it_again_in_a_new_tab(
    teacher_and_code: tuple[TestServer, ClientSession, dict[str, object]], browser: Browser
) -> None:
    server, _, klass = teacher_and_code
    errors: list[str] = []
    context = await browser.new_context(viewport=TABLET, locale="en-US")  # type: ignore[arg-type]
    await context.add_init_script(WATCH_CSP)
    page = await tab(context, server, errors)
    await expect(page.locator("#join")).to_be_visible()
    await expect(page.locator("#app")).to_be_hidden()
    await join(page, str(klass["code"]).replace("-", "").lower(), "Mika")  # typed loosely

    await expect(page.locator("#who-name")).to_have_text("Mika")
    await expect(page.locator("#who-class")).to_have_text("in 4b")
    await expect(page.locator("#access-note")).to_be_hidden()  # codes mode: no "open" note
    await connected(page)
    run = await start_run(page, "a lighthouse on a cliff at night")
    await expect(run).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    run_id = await run.get_attribute("data-run")
    assert run_id is not None
    # The run ended in this tab: "My pictures" shows it without a reload.
    await expect(page.locator(f'#mine .picture[data-run="{run_id}"]')).to_have_count(
        1, timeout=WAIT_MS
    )
    await screenshot(page, "join-first-tab")
    await page.close()

    again = await tab(context, server, errors)
    await connected(again)
    await expect(again.locator("#who-name")).to_have_text("Mika")
    await expect(again.locator(".run")).to_have_count(0)  # a new tab is a new session ...
    picture = again.locator("#mine .picture")
    await expect(picture).to_have_count(1)  # ... but the picture is still there
    await expect(picture.locator(".picture-prompt")).to_have_text(
        "a lighthouse on a cliff at night"
    )
    await expect(picture.locator(".picture-perspective")).to_have_text("Bauhaus")
    image = picture.locator("img")
    await expect(image).to_have_attribute("src", re.compile(rf"^/media/{re.escape(run_id)}/"))
    loaded = await image.evaluate("img => img.complete && img.naturalWidth > 0")
    assert loaded, "the kept picture did not load"
    download = picture.locator(".picture-download")
    href = await download.get_attribute("href")
    assert href is not None
    assert href.endswith("?download=1")
    disposition = await again.evaluate(
        "(href) => fetch(href).then((r) => r.headers.get('content-disposition'))", href
    )
    assert disposition.startswith("attachment;"), disposition
    await assert_nothing_technical(again)
    assert await csp_violations(again) == []
    await screenshot(again, "join-new-tab")
    await context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


async def test_a_wrong_code_and_a_taken_nickname_read_as_sentences_in_the_childs_language(
    teacher_and_code: tuple[TestServer, ClientSession, dict[str, object]], open_page: OpenPage
) -> None:
    server, teacher, klass = teacher_and_code
    page = await open_page(server, locale="de-DE")
    strings = (await ui_strings(page))["de"]
    error = page.locator("#join-error")
    await page.get_by_label("Klassencode").fill("ABCD-EFGH")
    await page.get_by_label("Spitzname").fill("Mika")
    await page.get_by_role("button", name="Beitreten").click()
    await expect(error).to_have_text(strings["join.error.unknown_code"])
    await expect(page.get_by_label("Klassencode")).to_be_focused()
    await assert_nothing_technical(page)
    await page.get_by_role(
        "button", name="EN", exact=True
    ).click()  # the sentence follows the language
    await expect(error).to_have_text(re.compile(r"^This class code is not right"))
    await page.get_by_role("button", name="DE", exact=True).click()

    # Mika joined from another device first: the nickname is taken, a PIN is asked for.
    other = await people_of(server).class_for_code(str(klass["code"]), time.time())
    await people_of(server).join(other.id, "Mika", None, time.time())
    await page.get_by_label("Klassencode").fill(str(klass["code"]))
    await page.get_by_role("button", name="Beitreten").click()
    await expect(error).to_have_text(strings["join.error.nickname_taken"])
    pin_field = page.get_by_label("PIN von deiner Lehrkraft")
    await expect(pin_field).to_be_focused()
    await pin_field.fill("000000")
    await page.get_by_role("button", name="Beitreten").click()
    await expect(error).to_have_text(strings["join.error.wrong_pin"])
    await screenshot(page, "join-wrong-pin")

    members = await api_json(teacher, server, "GET", f"/api/classes/{klass['id']}/members")
    mika = members["members"][0]["id"]
    pin = await api_json(teacher, server, "POST", f"/api/classes/{klass['id']}/members/{mika}/pin")
    await pin_field.fill(pin["pin"])
    await page.get_by_role("button", name="Beitreten").click()
    await expect(page.locator("#who-name")).to_have_text("Mika")
    await expect(error).to_be_hidden()
    await connected(page)


async def test_an_open_server_says_so_and_a_picture_is_deleted_only_after_a_second_yes(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult", access="open")
    page = await open_page(server)
    await connected(page)
    await expect(page.locator("#access-note")).to_contain_text("anyone with the link")
    await expect(page.locator("#join")).to_be_hidden()
    await expect(page.locator("#who")).to_be_hidden()  # a guest has no nickname to show
    await page.get_by_role("button", name="Join a class").click()  # optional when open
    await expect(page.get_by_label("Class code")).to_be_focused()
    await page.get_by_role("button", name="Back").click()
    await expect(page.locator("#app")).to_be_visible()
    await expect(page.get_by_role("button", name="Join a class")).to_be_focused()
    run = await start_run(page, "a snail racing a tortoise")
    await expect(run).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    picture = page.locator("#mine .picture")
    await expect(picture).to_have_count(1, timeout=WAIT_MS)

    await picture.get_by_role("button", name="Delete").click()
    await expect(picture.locator(".picture-confirm")).to_contain_text("for good")
    await expect(picture.get_by_role("button", name="No, keep it")).to_be_focused()
    await page.keyboard.press("Enter")  # "keep it"
    await expect(picture.get_by_role("button", name="Delete")).to_be_focused()
    await page.reload()
    await connected(page)
    await expect(picture).to_have_count(1)  # still kept on the server

    await picture.get_by_role("button", name="Delete").click()
    await picture.get_by_role("button", name="Yes, delete it").click()
    await expect(picture).to_have_count(0)
    await expect(page.locator("#mine-status")).to_have_text("The picture was deleted.")
    await expect(page.locator("#mine-empty")).to_be_visible()
    listed = await page.evaluate("fetch('/api/pictures').then((r) => r.json())")
    assert listed == {"pictures": []}


async def test_a_removed_student_is_asked_to_join_again_and_leaving_forgets_the_identity(
    teacher_and_code: tuple[TestServer, ClientSession, dict[str, object]], open_page: OpenPage
) -> None:
    server, teacher, klass = teacher_and_code
    page = await open_page(server)
    await join(page, str(klass["code"]), "Mika")
    await connected(page)
    members = await api_json(teacher, server, "GET", f"/api/classes/{klass['id']}/members")
    mika = members["members"][0]["id"]

    path = f"/api/classes/{klass['id']}/members/{mika}"
    await api_json(teacher, server, "DELETE", path, status=204)
    await expect(page.locator("#join")).to_be_visible()  # the socket was closed for Mika
    await expect(page.locator("#join-error")).to_have_text("Please join your class again.")
    await expect(page.locator("#app")).to_be_hidden()

    # A lost CSRF cookie is renewed and the join made again, unseen by the child.
    await page.context.clear_cookies(name="atelier_csrf")
    await join(page, str(klass["code"]), "Mika")  # removed: the nickname is free again
    await connected(page)
    await page.get_by_role("button", name="Leave").click()
    await expect(page.locator("#join")).to_be_visible()
    await expect(page.locator("#who")).to_be_hidden()
    me = await page.evaluate("fetch('/api/me').then((r) => r.json())")
    assert me["role"] is None
