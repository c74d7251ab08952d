"""Linkage in a real browser, as a supervisor uses it (issue 14): a case's linked
cases with their reasons, the cluster view, one account notice drafted for the
cluster's reports of one account, undoing a wrong link, and search across cases; in
English and in Traditional Chinese, with no serious axe-core violations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.cases.models import Page as PageRow
from reclaim.linkage import identifiers
from reclaim.linkage.domain import IdentifierKind
from reclaim.platforms.models import Platform, PlatformDomain
from reclaim.takedown.models import Notice
from tests.browser.conftest import LiveServer, staff_context
from tests.browser.portal_support import axe_violations
from tests.support.cases import make_case, make_user
from tests.support.linkage import linkage_keys

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path) as server:
        yield server


def _cluster(live: LiveServer) -> list[str]:
    """Three victims naming user_alpha, and a fourth sharing only a leak page with the
    first (a link the supervisor will find wrong)."""
    with live.app.state.reclaim.sessions() as session:
        platform = Platform(name="Instagram", abuse_email="abuse@ig.example", language="en")
        platform.domains.append(PlatformDomain(domain="instagram.com"))
        session.add(platform)
        analyst = make_user(session)
        numbers = []
        for index, written in enumerate(["@user_alpha", "ｕｓｅｒ＿ａｌｐｈａ", "user_alpha"]):
            urls = [f"https://www.instagram.com/p/victim{index}/"]
            if index == 0:
                urls.append("https://leak.example/a")
            case = make_case(session, urls=urls)
            identifiers.add_by_analyst(
                session,
                case,
                IdentifierKind.HANDLE,
                written,
                actor_id=analyst.id,
                keys=linkage_keys(live.settings),
            )
            numbers.append(case.number)
        numbers.append(make_case(session, urls=["https://leak.example/a"]).number)
        session.flush()
        for row in session.scalars(select(PageRow).where(PageRow.url.contains("instagram"))):
            row.platform_id = platform.id
        session.commit()
    return numbers


def _no_violations(page: Page, live: LiveServer) -> None:
    assert axe_violations(page, live) == []


def test_a_supervisor_works_a_cluster(browser: Browser, live: LiveServer) -> None:
    first, second, third, stranger = _cluster(live)
    context = staff_context(browser, live, Role.SUPERVISOR, "Browser Supervisor")
    page = context.new_page()  # type: ignore[attr-defined]

    # The case page: linked cases, each with why.
    page.goto(f"{live.url}/console/cases/{first}")
    linked = page.locator("ul.linked-cases")
    for number in (second, third, stranger):
        assert linked.locator(f'[data-linked="{number}"]').count() == 1
    assert "Same offender identifier: Account handle user_alpha" in linked.inner_text()
    assert "Same reported URL" in linked.locator(f'[data-linked="{stranger}"]').inner_text()
    _no_violations(page, live)

    # The cluster view, and one account notice for the three reports of user_alpha.
    page.get_by_role("link", name="See the whole cluster").click()
    assert page.locator("[data-victims]").inner_text() == "4"
    _no_violations(page, live)
    page.get_by_label("Account and platform").select_option(
        label="user_alpha · Instagram · 3 cases"
    )
    page.get_by_role("button", name="Draft the account notice").click()
    page.wait_for_url("**/console/notices/*")
    body = page.locator("main").inner_text()
    assert "Account notice" in body and "https://www.instagram.com/user_alpha/" in body
    assert all(number in body for number in (first, second, third))
    _no_violations(page, live)
    with live.app.state.reclaim.sessions() as session:
        reference = session.scalars(select(Notice.reference)).one()
    page.goto(f"{live.url}/console/cases/{second}")
    assert page.locator(f'[data-notice="{reference}"]').count() == 1

    # The leak page link is wrong: undo it, with the reason.
    page.goto(f"{live.url}/console/cases/{first}")
    entry = page.locator(f'[data-linked="{stranger}"]')
    entry.get_by_text("This link is wrong").click()
    entry.get_by_label("Why is it wrong?").fill("A shared meme page, not the same offender")
    entry.get_by_role("button", name="Unlink the two cases").click()
    assert page.get_by_role("status").filter(has_text="marked as wrong").count() == 1
    assert page.locator(f'[data-linked="{stranger}"]').count() == 0
    _no_violations(page, live)

    # Search by identifier, written another way.
    page.goto(f"{live.url}/console/search")
    page.get_by_label("Search by").select_option("identifier")
    page.get_by_label("Search for").fill("https://instagram.com/USER_ALPHA")
    page.get_by_role("button", name="Search").click()
    for number in (first, second, third):
        assert page.locator(f'[data-found="{number}"]').count() == 1
    assert page.locator(f'[data-found="{stranger}"]').count() == 0
    _no_violations(page, live)
    context.close()  # type: ignore[attr-defined]

    # The same pages in Traditional Chinese.
    context = staff_context(browser, live, Role.SUPERVISOR, "瀏覽器督導", locale="zh-TW")
    page = context.new_page()  # type: ignore[attr-defined]
    for path, words in (
        (f"/console/cases/{first}", "引用本案的帳號通知"),
        (f"/console/cases/{first}/cluster", "帳號通知"),
        ("/console/search?key=identifier&q=user_alpha", "帳號名稱"),
    ):
        page.goto(live.url + path)
        assert page.locator("html").get_attribute("lang") == "zh-Hant-TW"
        assert words in page.locator("main").inner_text()
        _no_violations(page, live)
    context.close()  # type: ignore[attr-defined]
