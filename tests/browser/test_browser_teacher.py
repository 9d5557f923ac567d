"""The teacher page in real Chromium: signing in, a class and its code (readable from the back
of a room), a new code, the members with a PIN and a removal, deleting the class, signing out."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from server.engine.people.codes import show_code
from tests.browser.conftest import OpenPage
from tests.browser_support import WAIT_MS, assert_nothing_technical, screenshot
from tests.people_support import PASSWORD, TEACHER, add_teacher, joined_student, people_of
from tests.pipeline_support import StartPipeline

pytestmark = pytest.mark.browser

#: The smallest code a projector at the front of a classroom still shows legibly at the back.
CODE_PIXELS = 40


async def sign_in(page: Page, password: str) -> None:
    await page.get_by_label("Name", exact=True).fill(TEACHER)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


#: Collects the page's Content-Security-Policy violations (an inline style or script would be one).
WATCH_CSP = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) =>
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`));
"""


async def teacher_page(page: Page, server: TestServer) -> None:
    """The teacher page, served with the strict policy, watched for violations."""
    await page.add_init_script(WATCH_CSP)
    response = await page.goto(str(server.make_url("/teacher")))
    assert response is not None
    assert "default-src 'self'" in response.headers["content-security-policy"]


async def csp_violations(page: Page) -> list[str]:
    violations: list[str] = await page.evaluate("window.cspViolations")
    return violations


async def font_pixels(page: Page, selector: str) -> float:
    size: str = await page.locator(selector).evaluate("el => getComputedStyle(el).fontSize")
    return float(size.removesuffix("px"))


async def test_a_teacher_signs_in_and_sees_the_class_code_big(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(access="codes")
    teacher_id = await add_teacher(server)
    page = await open_page(server)
    await teacher_page(page, server)

    await sign_in(page, "not the password")
    await expect(page.locator("#login-error")).to_have_text(
        "The name or the password is not right."
    )
    await expect(page.get_by_label("Password")).to_be_focused()
    await sign_in(page, PASSWORD)
    await expect(page.get_by_role("heading", name="Your classes")).to_be_focused()
    await expect(page.locator("#classes-status")).to_contain_text("no classes yet")

    await page.get_by_label("Name of a new class").fill("4b art")
    await page.get_by_role("button", name="Create class").click()
    card = page.locator(".class-card")
    await expect(card.get_by_role("heading", name="4b art")).to_be_focused()
    (row,) = await people_of(server).classes_of(teacher_id)
    await expect(card.locator(".class-code")).to_have_text(show_code(row.code))
    assert await font_pixels(page, ".class-code") >= CODE_PIXELS
    await assert_nothing_technical(page)

    project = card.get_by_role("button", name="Show the code big")
    await project.click()
    await expect(page.locator("#projector")).to_be_visible()
    await expect(page.locator("#projector-code")).to_have_text(show_code(row.code))
    assert await font_pixels(page, "#projector-code") > await font_pixels(page, ".class-code")
    await screenshot(page, "teacher-projector")
    await page.keyboard.press("Escape")
    await expect(page.locator("#projector")).to_be_hidden()
    await expect(project).to_be_focused()
    assert await csp_violations(page) == []

    # On the students' page a teacher is told where their classes are.
    await page.goto(str(server.make_url("/")))
    await expect(page.locator("#teacher-note")).to_be_visible()
    await expect(page.locator("#leave")).to_be_hidden()
    await page.get_by_role("link", name="Go to your classes").click()
    await expect(page.locator(".class-code")).to_have_text(show_code(row.code))


async def test_a_teacher_rotates_the_code_and_manages_members(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(access="codes")
    teacher_id = await add_teacher(server)
    page = await open_page(server)
    await teacher_page(page, server)
    await sign_in(page, PASSWORD)
    await page.get_by_label("Name of a new class").fill("4b")
    await page.get_by_role("button", name="Create class").click()
    card = page.locator(".class-card")
    # The card is drawn from the server's answer: once it is there, the class is stored.
    await expect(card.get_by_role("heading", name="4b")).to_be_focused()
    (old,) = await people_of(server).classes_of(teacher_id)
    await expect(card.locator(".class-code")).to_have_text(show_code(old.code))

    await card.get_by_role("button", name="Make a new code").click()
    await expect(card.get_by_role("button", name="No")).to_be_focused()
    await card.get_by_role("button", name="Yes").click()
    await expect(card.locator(".class-code")).not_to_have_text(show_code(old.code))
    (new,) = await people_of(server).classes_of(teacher_id)
    assert new.code != old.code
    await expect(card.locator(".class-code")).to_have_text(show_code(new.code))

    student = await joined_student(server, new.code, "Mika")
    try:
        members = card.get_by_role("button", name="Members")
        await members.click()
        await expect(card.get_by_role("button", name="Hide members")).to_have_attribute(
            "aria-expanded", "true"
        )
        member = card.locator(".member")
        await expect(member.locator(".member-name")).to_have_text("Mika")
        await member.get_by_role("button", name="Make a PIN").click()
        await expect(member.locator(".member-pin")).to_have_text(re.compile(r"PIN \d{6}, valid"))
        await screenshot(page, "teacher-members")

        await member.get_by_role("button", name="Remove").click()
        await expect(member.locator(".inline-confirm")).to_contain_text("Remove Mika")
        await member.get_by_role("button", name="Yes").click()
        await expect(card.locator(".member")).to_have_count(0)
        await expect(card.locator(".members-status")).to_have_text(
            "Mika was removed from the class."
        )
        assert await people_of(server).members_of(new.id) == []
    finally:
        await student.close()

    await card.get_by_role("button", name="Delete class").click()
    await expect(card.locator(".inline-confirm")).to_contain_text("Delete the class 4b?")
    await card.get_by_role("button", name="Yes").click()
    await expect(page.locator(".class-card")).to_have_count(0)
    await expect(page.locator("#classes-status")).to_have_text("The class 4b was deleted.")
    assert await people_of(server).classes_of(teacher_id) == []

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT_MS)
    assert await csp_violations(page) == []


async def test_both_pages_have_every_string_in_english_and_german(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(access="codes")
    page = await open_page(server)
    for module, name in (("strings.js", "STRINGS"), ("teacher-strings.js", "TEACHER_STRINGS")):
        table: dict[str, dict[str, str]] = await page.evaluate(
            f"import('/static/js/{module}').then((module) => module.{name})"
        )
        assert set(table) == {"en", "de"}
        assert table["en"].keys() == table["de"].keys(), module
        assert all(text.strip() for language in table.values() for text in language.values())
