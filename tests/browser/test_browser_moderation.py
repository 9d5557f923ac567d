"""The students' page under a class's settings and a lock, in real Chromium: no instructions
editor where the teacher turned editing off, and a locked nickname sends the page back to the
join form, which says in the child's words why that nickname cannot come back."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import OpenPage
from tests.browser.test_browser_join import join
from tests.browser_support import WAIT_MS, ui_strings
from tests.people_support import api_json, create_class, logged_in_teacher, members_of
from tests.pipeline_support import StartPipeline

pytestmark = pytest.mark.browser


async def test_no_editor_without_editing_and_a_locked_nickname_is_told_why(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult", access="codes")
    teacher = await logged_in_teacher(server)
    klass = await create_class(teacher, server, "4b", rules={"edit_instructions": False})
    page = await open_page(server)
    strings = (await ui_strings(page))["en"]
    await join(page, str(klass["code"]), "Mika")
    await expect(page.locator("#who-name")).to_have_text("Mika")
    await expect(page.locator("#start")).to_be_enabled(timeout=WAIT_MS)  # welcome came
    await expect(page.locator("#meta")).to_be_hidden()

    [member] = await members_of(teacher, server, klass["id"])
    path = f"/api/classes/{klass['id']}/members/{member['id']}/lock"
    await api_json(teacher, server, "POST", path)
    await expect(page.locator("#join")).to_be_visible(timeout=WAIT_MS)  # closed with 4016
    await join(page, str(klass["code"]), "Mika")
    await expect(page.locator("#join-error")).to_have_text(strings["join.error.nickname_locked"])
    await teacher.close()
