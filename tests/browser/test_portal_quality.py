"""Every portal page, in both languages, on a 360 px wide phone: no serious or critical
axe-core violation, and nothing wider than the screen.

Screenshots of each page go to the test's temporary directory; with
RECLAIM_DOCS_SCREENSHOTS=1 the report's file step in Traditional Chinese is also
copied to docs/images/portal-360.png for the documentation.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import LiveServer
from tests.browser.portal_support import (
    axe_violations,
    choose_language,
    next_step,
    require_axe,
    synthetic_photo,
    wait_for_files,
)
from tests.support.settings import REPO

pytestmark = pytest.mark.browser

WIDTH = 360
DOCS_SCREENSHOT = REPO / "docs" / "images" / "portal-360.png"


class Inspector:
    """Checks the page as it is now, under a name, and keeps a screenshot of it."""

    def __init__(self, page: Page, live: LiveServer, directory: Path, language: str) -> None:
        self.page, self.live, self.directory, self.language = page, live, directory, language
        self.problems: dict[str, object] = {}
        self.checked: list[str] = []

    def __call__(self, name: str) -> None:
        self.page.wait_for_load_state()
        width = self.page.evaluate("document.scrollingElement.scrollWidth")
        if width > WIDTH:
            self.problems[f"{name}: wider than the screen"] = width
        violations = axe_violations(self.page, self.live)
        if violations:
            self.problems[f"{name}: axe"] = violations
        shot = self.directory / f"{self.language}-{name}.png"
        self.page.screenshot(path=shot, full_page=True)
        wanted = os.environ.get("RECLAIM_DOCS_SCREENSHOTS") == "1"
        if wanted and (name, self.language) == ("report-5-files", "zh_TW"):
            DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
            self.page.screenshot(path=DOCS_SCREENSHOT)
        self.checked.append(name)


def walk_the_report(
    page: Page, live: LiveServer, check: Callable[[str], None], photo: Path, *, situation: str
) -> None:
    page.goto(f"{live.url}/report")
    check("report-1-who")
    page.check("input[name=reporter_role][value=self]")
    next_step(page)
    check("report-2-age")
    page.check("input[name=age_group][value=under_18]")
    next_step(page)
    check("report-3-situation")
    page.check(f"input[name=situation][value={situation}]")
    next_step(page)
    check("report-4-where")
    page.fill("#urls", "https://forum.example.net/t/1")
    next_step(page)
    page.set_input_files("#file-input", str(photo))
    wait_for_files(page, 1)
    check("report-5-files")
    next_step(page)
    check("report-6-more")
    with page.expect_navigation():
        page.click("button[type=submit]")


def try_pin(page: Page, live: LiveServer, number: str, pin: str) -> None:
    page.goto(f"{live.url}/case")
    page.fill("#case_number", number)
    page.fill("#pin", pin)
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.mark.parametrize("language", ["zh_TW", "en"])
def test_every_page_is_accessible_and_fits_a_phone(
    browser: Browser, live_server: LiveServer, tmp_path: Path, language: str
) -> None:
    require_axe()
    context = browser.new_context(viewport={"width": WIDTH, "height": 740})
    page = context.new_page()
    check = Inspector(page, live_server, tmp_path, language)
    photo = synthetic_photo(tmp_path, "photo.jpg", seed=31).path
    choose_language(page, live_server, language)
    check("home")

    # A form sent with nothing answered (the page's script bypassed): the server's errors.
    page.goto(f"{live_server.url}/report")
    with page.expect_navigation():
        page.evaluate("HTMLFormElement.prototype.submit.call(document.querySelector('form'))")
    check("report-errors")

    walk_the_report(page, live_server, check, photo, situation="online")
    check("confirmation")
    number = (page.text_content("[data-case-number]") or "").strip()
    pin = (page.text_content("[data-pin]") or "").strip()
    walk_the_report(page, live_server, lambda _name: None, photo, situation="threat")
    check("confirmation-urgent")
    urgent_number = (page.text_content("[data-case-number]") or "").strip()

    page.goto(f"{live_server.url}/case")
    check("check")
    try_pin(page, live_server, number, "00000000")
    check("check-refused")
    try_pin(page, live_server, number, pin)
    check("status")
    with page.expect_navigation():
        page.locator(".items li button").first.click()
    check("withdraw-confirm")  # withdrawing a row asks first
    page.click("[data-confirm-withdraw] button[type=submit]")
    page.wait_for_url("**/case/status?done=withdrawn")
    check("status-after-withdrawal")

    for _ in range(live_server.settings.pin_max_failures_per_case):
        try_pin(page, live_server, urgent_number, "00000000")
    check("locked")
    page.goto(f"{live_server.url}/no-such-page")
    check("error-404")
    context.close()

    assert check.problems == {}
    assert len(check.checked) == 17


def test_the_accessibility_check_finds_a_planted_violation(
    browser: Browser, live_server: LiveServer
) -> None:
    """The check above would pass vacuously if axe did not run: here it must object."""
    require_axe()
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.evaluate(
        "() => { const i = document.createElement('img'); i.src = '/static/portal/icon.svg';"
        " document.querySelector('main').append(i); }"
    )
    assert "image-alt" in {v["id"] for v in axe_violations(page, live_server)}
    context.close()
