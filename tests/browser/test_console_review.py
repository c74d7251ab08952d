"""Case work in a real browser: triage, fetch for review from a loopback server, the
blurred preview, an audited reveal, and a decision that lands in the verified bank (the
analyst saw the picture).

The login pages are tested elsewhere; here a session is started through the sessions
service and its cookie handed to the browser, as the login page would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks.domain import Category
from reclaim.cases.domain import AgeGroup, Situation
from tests.browser.conftest import LiveServer, staff_context
from tests.support.cases import make_case, synthetic_png, verified_entries
from tests.support.http import LoopbackServer, content

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

PICTURE = synthetic_png(21, (200, 150))


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    # The fetcher may reach loopback test servers here, as it never may in production.
    with LiveServer(tmp_path, fetch_allowlist=["127.0.0.1/32"]) as server:
        yield server


@pytest.fixture
def media_site() -> Iterator[LoopbackServer]:
    site = LoopbackServer().start()
    site.routes["/leaked.png"] = content(PICTURE, "image/png")
    yield site
    site.stop()


@pytest.fixture
def analyst_page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    context = staff_context(browser, live, Role.ANALYST, "Browser Analyst")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    assert [p for p in problems if "Content Security Policy" in p] == []


def tags(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))


def test_triage_review_reveal_and_decide(
    analyst_page: Page, live: LiveServer, media_site: LoopbackServer
) -> None:
    page = analyst_page
    with live.app.state.reclaim.sessions() as session:
        calm = make_case(session, created_at=datetime.now(UTC) - timedelta(hours=2))
        urgent = make_case(
            session,
            urls=[media_site.url("/leaked.png")],
            urgent=True,
            situation=Situation.THREAT,
            age=AgeGroup.UNDER_18,
        )
        session.commit()
        calm_number, number = calm.number, urgent.number

    # Triage: the threatened child first, with the reasons on screen.
    page.goto(f"{live.url}/console/")
    cases = page.locator("li.queue-case")
    assert cases.nth(0).get_attribute("data-case") == number
    assert cases.nth(1).get_attribute("data-case") == calm_number
    first = cases.nth(0)
    assert first.locator("[data-factor=threat]").is_visible()
    assert "+50" in first.locator("[data-factor=threat]").inner_text()
    assert "+30" in first.locator("[data-factor=under_18]").inner_text()

    # Fetch for review: the server fetches from the loopback site; nothing is shown.
    first.locator("a.case-link").click()
    page.get_by_role("button", name="Fetch for review").click()
    page.wait_for_url(f"**/console/cases/{number}?notice=fetched*")
    assert page.locator("img").count() == 0
    assert len(media_site.requests) == 1

    # The blurred preview appears only after a click, from our own origin.
    page.get_by_role("link", name="Show blurred preview").click()
    preview = page.locator("figure.preview img")
    preview.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=preview.element_handle()
    )
    assert preview.evaluate("img => img.naturalWidth") <= 256

    # Reveal: a deliberate, confirmed POST; the original is drawn from a blob: URL.
    page.get_by_role("link", name="Review page").click()
    reveal = page.get_by_role("button", name="Reveal original")
    reveal.click()  # the confirmation box is not ticked: the browser refuses to submit
    assert page.locator("img.revealed").count() == 0
    page.get_by_role("checkbox").check()
    reveal.click()
    revealed = page.locator("img.revealed")
    revealed.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=revealed.element_handle()
    )
    assert revealed.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [200, 150]
    assert revealed.get_attribute("src", timeout=1000).startswith("blob:")  # type: ignore[union-attr]
    with live.app.state.reclaim.sessions() as session:
        trail = tags(session)
    assert trail.count(AuditTag.ITEM_FETCHED.value) == 1
    assert trail.count(AuditTag.ITEM_PREVIEWED.value) == 1
    assert trail.count(AuditTag.ITEM_REVEALED.value) == 1

    # Decide: the analyst saw it, so its hashes land in the verified bank of its category.
    page.get_by_role("link", name=f"Back to case {number}").click()
    assert page.get_by_text("Deciding it banks it as verified:").is_visible()
    page.get_by_label("Intimate image of a minor (self-generated)").check()
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url(f"**/console/cases/{number}?notice=decided*")
    assert page.get_by_text("The decision was recorded.").is_visible()
    with live.app.state.reclaim.sessions() as session:
        entries = verified_entries(session, Category.SELF_GENERATED_MINOR)
        assert tags(session).count(AuditTag.ITEM_DECIDED.value) == 1
    assert hashlib.sha256(PICTURE).hexdigest() in entries
    assert hashlib.md5(PICTURE, usedforsecurity=False).hexdigest() in entries
