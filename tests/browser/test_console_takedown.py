"""Takedown in a real browser: a supervisor sends notices for a decided case; the email
reaches a loopback SMTP server; verification finds the content gone; the supervisor
sees the removal on the notice and on the dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, update

from reclaim.accounts.domain import Role
from reclaim.cases.domain import Classification
from reclaim.platforms.models import Platform, PlatformDomain
from reclaim.takedown.models import NoticeItem
from tests.browser.conftest import LiveServer, staff_context
from tests.support.cases import make_case, synthetic_png
from tests.support.http import Handler, LoopbackServer, send
from tests.support.smtp import LoopbackSmtp, RecordingHandler

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

PICTURE = synthetic_png(5, (120, 90))


@pytest.fixture
def mailbox() -> Iterator[tuple[LoopbackSmtp, RecordingHandler]]:
    handler = RecordingHandler()
    server = LoopbackSmtp(handler)
    server.start()
    yield server, handler
    server.stop()


@pytest.fixture
def platform_site() -> Iterator[LoopbackServer]:
    """Serves the picture until the notice has been read (the first check), then 404."""
    site = LoopbackServer().start()
    looks = {"n": 0}

    def picture(handler: Handler) -> None:
        looks["n"] += 1
        if looks["n"] <= 1:
            send(handler, 200, PICTURE, "image/png")
        else:
            send(handler, 404, b"removed", "text/plain")

    site.routes["/p/leak.png"] = picture
    yield site
    site.stop()


@pytest.fixture
def live(tmp_path: Path, mailbox: tuple[LoopbackSmtp, RecordingHandler]) -> Iterator[LiveServer]:
    with LiveServer(
        tmp_path,
        fetch_allowlist=["127.0.0.1/32"],
        smtp_port=mailbox[0].port,
        smtp_security="none",
        mail_from="Hotline <notices@hotline.example>",
    ) as server:
        yield server


@pytest.fixture
def supervisor_page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    context = staff_context(browser, live, Role.SUPERVISOR, "Browser Supervisor")
    page = context.new_page()
    yield page
    context.close()


def test_a_supervisor_sends_notices_and_sees_the_removal(
    supervisor_page: Page,
    live: LiveServer,
    platform_site: LoopbackServer,
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
) -> None:
    page = supervisor_page
    url = platform_site.url("/p/leak.png")
    with live.app.state.reclaim.sessions() as session:
        platform = Platform(name="Loopback Photos", abuse_email="abuse@loopback.example")
        platform.domains.append(PlatformDomain(domain="loopback.example"))
        session.add(platform)
        case = make_case(session, urls=[url])
        case.items[0].classification = Classification.SELF_GENERATED_MINOR
        case.items[0].platform_id = platform.id  # 127.0.0.1 matches no domain: assigned
        session.commit()
        number = case.number

    page.goto(f"{live.url}/console/cases/{number}")
    page.get_by_role("link", name="Removal notices").click()
    page.get_by_role("button", name="Draft notices (one per platform)").click()
    page.locator("a[href^='/console/notices/']").first.click()
    assert page.get_by_text("A supervisor sends notices").count() == 0
    assert "removal notice" in page.locator("pre.notice-preview").inner_text()
    page.get_by_role("button", name="Send this notice").click()

    (received,) = mailbox[1].received
    assert received.rcpt_tos == ("abuse@loopback.example",)
    assert url in received.parsed().get_body(("plain",)).get_content()
    assert page.locator("[data-status]").first.inner_text() == "sent"

    # Two checks, made due now: the first sees the picture, the second finds it gone.
    tasks = live.app.state.reclaim.huey.reclaim_tasks
    for _ in range(2):
        with live.app.state.reclaim.sessions() as session:
            session.execute(update(NoticeItem).values(next_check_at=datetime.now(UTC)))
            session.commit()
        tasks.takedown.follow_up_notices.call_local()
    page.reload()
    assert page.locator("[data-status]").first.inner_text() == "removed"
    assert [c.get_attribute("data-check") for c in page.locator("[data-check]").all()] == [
        "still_up",
        "removed",
    ]
    page.goto(f"{live.url}/console/takedown")
    row = page.locator("tr", has_text="Loopback Photos")
    assert "1 / 1" in row.inner_text()
    with live.app.state.reclaim.sessions() as session:
        (item,) = session.scalars(select(NoticeItem)).all()
        assert item.removed_at is not None
