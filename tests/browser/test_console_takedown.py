"""Takedown in a real browser, the way issue 12 found it broken, end to end.

A page shows two pictures; one matches a verified entry, the other nobody has seen.
Two cases report the page.  An analyst fetched it for review and decided it (through
the services): the unseen picture's hashes stay unverified.  A supervisor drafts and
sends one notice for both cases, naming both pictures; the email reaches a loopback
SMTP server.  The platform removes only the unmatched picture: "check now" shows the
page partially removed with the matched picture still up, and so does the dashboard.
The platform refuses the rest by email; the supervisor records the refusal with its
reason, and it shows on the notice, the dashboard and the escalation report.  When
the page finally goes, both cases are resolved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.banks.domain import UNVERIFIED_BANK
from reclaim.banks.engine import MatchEngine
from reclaim.cases import decisions, review
from reclaim.cases.domain import CaseStatus, Classification
from reclaim.cases.models import Case
from reclaim.domain.signals import Signal, SignalType
from reclaim.fetching import SafeFetcher
from reclaim.platforms.models import Platform
from tests.browser.conftest import LiveServer, staff_context
from tests.support.cases import (
    bank_entries,
    bank_verified,
    make_case,
    make_user,
    synthetic_png,
    verified_entries,
)
from tests.support.http import Handler, LoopbackServer, send
from tests.support.smtp import LoopbackSmtp, RecordingHandler

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

MATCHED = synthetic_png(5, (120, 90))  # its MD5 is in the verified CSAM bank
UNSEEN = synthetic_png(9, (120, 90))  # nobody at the hotline has seen it
REASON = "Not against our community rules"


def md5_of(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class PlatformSite:
    """A loopback 'platform': a post showing two pictures, taken down step by step."""

    def __init__(self) -> None:
        self.server = LoopbackServer().start()
        self.stage = "both"  # then "matched only", then "gone"
        self.server.routes.update(
            {
                "/post/7": self._post,
                "/img/matched.png": lambda h: send(h, 200, MATCHED, "image/png"),
                "/img/unseen.png": self._unseen,
            }
        )

    def url(self, path: str) -> str:
        return self.server.url(path)

    def _post(self, handler: Handler) -> None:
        if self.stage == "gone":
            send(handler, 404, b"removed", "text/plain")
            return
        shown = ["/img/matched.png"] + (["/img/unseen.png"] if self.stage == "both" else [])
        body = "".join(f'<img src="{self.url(p)}">' for p in shown)
        send(handler, 200, f"<html><p>A post</p>{body}</html>".encode(), "text/html")

    def _unseen(self, handler: Handler) -> None:
        if self.stage == "both":
            send(handler, 200, UNSEEN, "image/png")
        else:
            send(handler, 404, b"removed", "text/plain")


@pytest.fixture
def platform_site() -> Iterator[PlatformSite]:
    site = PlatformSite()
    yield site
    site.server.stop()


@pytest.fixture
def live(tmp_path: Path, mailbox: tuple[LoopbackSmtp, RecordingHandler]) -> Iterator[LiveServer]:
    with LiveServer(
        tmp_path,
        fetch_allowlist=["127.0.0.1/32"],
        smtp_port=mailbox[0].port,
        smtp_security="none",
        mail_from="Hotline <notices@hotline.example>",
        # The test moves the app's clock a day on (past the deadline); stay logged in.
        session_idle_minutes=3000,
        session_absolute_hours=48,
    ) as server:
        yield server


@pytest.fixture
def supervisor_page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    context = staff_context(browser, live, Role.SUPERVISOR, "Browser Supervisor")
    page = context.new_page()
    yield page
    context.close()


def _two_cases_decided(live: LiveServer, site: PlatformSite) -> tuple[str, str]:
    """Two cases report the post; the first was fetched for review (which found both
    pictures) and both were decided CSAM, with the bank matches in hand."""
    settings = live.settings
    with live.app.state.reclaim.sessions() as session:
        platform = Platform(name="Loopback Photos", abuse_email="abuse@loopback.example")
        session.add(platform)
        bank_verified(session, Signal(SignalType.MD5, md5_of(MATCHED)))
        first = make_case(session, urls=[site.url("/post/7")])
        second = make_case(session, urls=[site.url("/post/7") + "#comment-2"])
        for case in (first, second):
            assert case.items[0].page is not None
            case.items[0].page.platform_id = platform.id  # 127.0.0.1 matches no domain
        analyst = make_user(session, Role.ANALYST, "Browser Analyst")
        session.commit()
        matcher = MatchEngine()
        matcher.sync(session)
        found = review.fetch_for_review(
            session,
            first.items[0].id,
            fetcher=SafeFetcher(review.fetch_policy(settings)),
            store=review.quarantine_store(settings),
            matcher=matcher,
            policy=review.ReviewPolicy.from_settings(settings),
            actor_id=analyst.id,
        )
        assert [m.media.url for m in found.found] == [
            site.url("/img/matched.png"),
            site.url("/img/unseen.png"),
        ]
        session.expire_all()  # the page now shows what the fetch found
        for case in (first, second):
            decisions.decide(
                session,
                case.items[0],
                Classification.CSAM,
                analyst_id=analyst.id,
                reason=None,
                policy=decisions.DecisionPolicy.from_settings(settings),
                matcher=matcher,
            )
        session.commit()
        # The matched picture is verified by its match; the unseen one stays unverified.
        verified, unverified = verified_entries(session), bank_entries(session, UNVERIFIED_BANK)
        assert md5_of(MATCHED) in verified
        assert md5_of(UNSEEN) not in verified and md5_of(UNSEEN) in unverified
        assert all(e.verified_via for e in verified.values())
        return first.number, second.number


def _statuses(live: LiveServer, *numbers: str) -> list[CaseStatus]:
    with live.app.state.reclaim.sessions() as session:
        return [
            session.scalars(select(Case.status).where(Case.number == number)).one()
            for number in numbers
        ]


def test_a_partial_removal_a_refusal_by_email_and_one_notice_for_two_cases(
    supervisor_page: Page,
    live: LiveServer,
    platform_site: PlatformSite,
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
) -> None:
    page = supervisor_page
    # The outbox runs on the system's clock (the app's tasks are not given the app's);
    # the live server's clock starts mid-way through a TOTP step, up to 15 s ahead of
    # it, which would leave the notice's delivery not yet due when the outbox runs.
    live.clock.now = datetime.now(UTC)
    first, second = _two_cases_decided(live, platform_site)
    post = platform_site.url("/post/7")
    matched, unseen = platform_site.url("/img/matched.png"), platform_site.url("/img/unseen.png")
    assert _statuses(live, first, second) == [CaseStatus.ACTIONED] * 2

    # One notice for the page, whichever case it is drafted from, naming both pictures.
    page.goto(f"{live.url}/console/cases/{second}/notices")
    assert "reported in 2 cases: one notice for all" in page.locator(".pending-pages").inner_text()
    page.get_by_role("button", name="Draft notices (one per platform)").click()
    page.locator("a[href^='/console/notices/']").first.click()
    notice_url = page.url
    preview = page.locator("pre.notice-preview").inner_text()
    assert post in preview and matched in preview and unseen in preview
    page.get_by_role("button", name="Send this notice").click()

    (received,) = mailbox[1].received
    assert received.rcpt_tos == ("abuse@loopback.example",)
    text = received.parsed().get_body(("plain",)).get_content()
    assert post in text and matched in text and unseen in text
    assert page.locator("dd[data-status]").get_attribute("data-status") == "sent"
    assert page.locator("dd[data-status]").inner_text() == "Sent to the platform"  # words
    reference = page.locator("h1").inner_text().split()[-1]
    page.goto(f"{live.url}/console/cases/{first}/notices")
    assert reference in page.locator("table").inner_text()
    assert page.get_by_text("No decided page is waiting for a notice.").count() == 1
    assert _statuses(live, first, second) == [CaseStatus.AWAITING_REMOVAL] * 2

    # The platform takes down only the unmatched picture: partially removed, not removed.
    platform_site.stage = "matched only"
    page.goto(notice_url)
    page.get_by_role("button", name="Check now").click()
    assert page.locator("dd[data-status]").get_attribute("data-status") == "partially_removed"
    noticed = page.locator("section.notice-page")
    assert noticed.get_attribute("data-page-outcome") == "partially_removed"
    assert matched in noticed.locator("li[data-media-outcome='pending']").inner_text()
    assert unseen in noticed.locator("li[data-media-outcome='removed']").inner_text()
    page.goto(f"{live.url}/console/takedown")
    cells = page.locator("tr[data-platform='Loopback Photos'] td").all_inner_texts()
    # Notices, pages removed, partly removed, refused, pictures removed.
    assert cells[1:6] == ["1", "0 / 1", "1", "0", "1 / 2"]

    # The platform refuses the rest by email; the supervisor records it.
    page.goto(notice_url)
    page.locator("input[name='answer'][value='refused']").check()
    page.locator("#answer-reason").fill(REASON)
    page.get_by_role("button", name="Record the answer").click()
    assert page.locator("dd[data-status]").get_attribute("data-status") == "refused"
    assert REASON in page.locator(".platform-answer").inner_text()
    page.goto(f"{live.url}/console/takedown")
    refusal = page.locator("ul.refusals li").inner_text()
    assert reference in refusal and REASON in refusal and post in refusal

    # A day on, past the 24-hour deadline: the report for the authority carries it all.
    live.clock.advance(hours=25)
    report = page.request.get(f"{live.url}/console/takedown/escalation.html")
    assert report.ok
    body = report.text()
    assert reference in body and REASON in body and matched in body

    # The page finally goes: the notice is removed, and both cases are resolved.
    platform_site.stage = "gone"
    page.goto(notice_url)
    page.get_by_role("button", name="Check now").click()
    assert page.locator("dd[data-status]").get_attribute("data-status") == "removed"
    checks = [c.get_attribute("data-check") for c in page.locator("[data-check]").all()]
    assert checks == ["partially_removed", "removed"]
    assert _statuses(live, first, second) == [CaseStatus.RESOLVED] * 2
    assert len(mailbox[1].received) == 1  # one notice, one email, for both cases
