"""The patrol page in Chromium: a supervisor watches a page for a case, sees it listed,
stops watching it; axe-core finds no serious or critical violation (zh_TW and en)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from reclaim.accounts.domain import Role
from reclaim.cases.domain import Classification
from tests.browser.conftest import LiveServer, staff_context
from tests.browser.portal_support import axe_violations
from tests.support.takedown import case_with_urls

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["zh_TW", "en"])
def test_a_supervisor_watches_and_stops_watching_a_page(
    browser: Browser, live_server: LiveServer, language: str
) -> None:
    live = live_server
    with live.app.state.reclaim.sessions() as session:
        case = case_with_urls(
            session,
            [f"https://board.example.org/{language}/old.jpg"],
            classification=Classification.CSAM,
        )
        number = case.number
        session.commit()

    context = staff_context(browser, live, Role.SUPERVISOR, "Browser Supervisor")
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(live.url + f"/console/patrol?lang={language}")
    assert axe_violations(page, live) == []
    page.fill("#watch-url", f"https://board.example.org/{language}/u/7")
    page.fill("#watch-case", number)
    page.locator('form[action="/console/patrol"] button[type="submit"]').click()
    page.wait_for_load_state()
    row = page.locator("tr", has=page.locator('form[action="/console/patrol/remove"]'))
    assert f"https://board.example.org/{language}/u/7" in row.inner_text()
    assert number in row.inner_text()
    assert axe_violations(page, live) == []

    row.locator('button[type="submit"]').click()
    page.wait_for_load_state()
    assert page.locator('form[action="/console/patrol/remove"]').count() == 0
    context.close()  # type: ignore[attr-defined]
