"""The statistics page (console) and the transparency page (portal) in Chromium, in
zh_TW and en: the charts load and draw, each has its table, and axe-core finds no
serious or critical violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reclaim.accounts.domain import Role
from reclaim.demo.history import make_history
from tests.browser.conftest import LiveServer, staff_context
from tests.browser.portal_support import axe_violations

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

HEADINGS = {
    "console": {"zh_TW": "統計", "en": "Statistics"},
    "portal": {"zh_TW": "透明度報告", "en": "Transparency"},
}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path) as server:
        with server.app.state.reclaim.sessions() as session:
            make_history(
                session, months=13, end=server.app.state.reclaim.clock(), cases_per_month=15, seed=9
            )
            session.commit()
        yield server


def _charts_drawn(page: Page) -> list[dict[str, object]]:
    result: list[dict[str, object]] = page.evaluate(
        """() => [...document.querySelectorAll('section.chart')].map((s) => {
            const img = s.querySelector('img');
            return {key: s.dataset.chart, width: img ? img.naturalWidth : 0,
                    alt: img ? img.alt : '', rows: s.querySelectorAll('tbody tr').length};
        })"""
    )
    return result


@pytest.mark.parametrize("language", ["zh_TW", "en"])
def test_the_statistics_page_in_a_browser(
    browser: Browser, live: LiveServer, language: str
) -> None:
    context = staff_context(browser, live, Role.SUPERVISOR, "Browser Supervisor")
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(live.url + f"/console/statistics?lang={language}")
    assert page.locator("h1").inner_text() == HEADINGS["console"][language]
    charts = _charts_drawn(page)
    assert [c["key"] for c in charts] == ["trend", "time_to_removal", "compliance"]
    for chart in charts:
        assert chart["width"] > 200 and chart["alt"] and chart["rows"] > 0, chart
    assert page.locator('[data-table="removal_by_platform"] tbody tr').count() >= 2
    # The filter narrows the figures: one platform's row and the overall row.
    page.select_option('select[name="platform"]', label="Synthetic Forum")
    page.click('form.statistics-filter button[type="submit"]')
    rows = page.locator('[data-table="removal_by_platform"] tbody tr')
    assert rows.count() == 2 and "Synthetic Forum" in rows.first.inner_text()
    assert axe_violations(page, live) == []
    context.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["zh_TW", "en"])
def test_the_transparency_page_in_a_browser(
    browser: Browser, live: LiveServer, language: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(live.url + f"/transparency?lang={language}")
    assert page.locator("h1").inner_text().startswith(HEADINGS["portal"][language])
    charts = _charts_drawn(page)
    assert [c["key"] for c in charts] == ["reports_by_month", "compliance"]
    for chart in charts:
        assert chart["width"] > 200 and chart["alt"] and chart["rows"] > 0, chart
    assert page.locator('[data-table="reports_by_age"] tbody tr').count() == 3
    assert axe_violations(page, live) == []
    context.close()
