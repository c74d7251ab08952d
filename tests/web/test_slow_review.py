"""A slow reported page must not stop the hotline (issue 12).

On the default SQLite database, an analyst fetches a page for review that answers only
when the test lets it.  While that fetch is open, children keep reporting through the
portal and the outbox keeps delivering a notice: every report is acknowledged and the
notice is sent, because no transaction is open while the network is used (on SQLite a
transaction holds the one write lock from its first statement).  The slow page is
released by the test, not by a timer, so the fetch is provably in flight throughout.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from reclaim.accounts import staff_sessions
from reclaim.accounts.domain import Role
from reclaim.accounts.staff_sessions import SessionPolicy
from reclaim.cases.models import Case, QuarantinedMedia
from reclaim.platforms.models import Platform, PlatformDomain
from reclaim.takedown.domain import DeliveryStatus
from reclaim.takedown.models import Delivery
from reclaim.web.csrf import STAFF_COOKIE
from tests.browser.conftest import LiveServer
from tests.support.cases import make_case, make_user, synthetic_png
from tests.support.http import Handler, LoopbackServer, content, send
from tests.support.portal import report_form
from tests.support.smtp import LoopbackSmtp, RecordingHandler
from tests.support.takedown import make_notice
from tests.web.conftest import csrf_from

REPORTS = 6
_NUMBER = re.compile(r"data-case-number>(RC-[0-9A-Z-]+)<")


@pytest.fixture
def mailbox() -> Iterator[RecordingHandler]:
    handler = RecordingHandler()
    server = LoopbackSmtp(handler)
    server.start()
    handler.port = server.port  # type: ignore[attr-defined]
    yield handler
    server.stop()


@pytest.fixture
def live(tmp_path: Path, mailbox: RecordingHandler) -> Iterator[LiveServer]:
    with LiveServer(
        tmp_path,
        fetch_allowlist=["127.0.0.1/32"],
        # The test, not a timer, ends the slow fetch.
        fetch_total_timeout_seconds=120,
        fetch_read_timeout_seconds=120,
        smtp_port=mailbox.port,  # type: ignore[attr-defined]
        smtp_security="none",
        mail_from="Hotline <notices@hotline.example>",
        report_max_per_client_per_hour=50,  # six reports from one client: the lock is tested
    ) as server:
        assert server.settings.database_url.startswith("sqlite")
        yield server


class SlowPage:
    """A page that starts answering only when released."""

    def __init__(self) -> None:
        self.server = LoopbackServer().start()
        self.asked = threading.Event()
        self.release = threading.Event()
        self.server.routes["/slow"] = self._slow
        self.server.routes["/p.png"] = content(synthetic_png(3), "image/png")

    def _slow(self, handler: Handler) -> None:
        self.asked.set()
        assert self.release.wait(120), "the test never released the slow page"
        body = f"<html><img src='{self.server.url('/p.png')}'></html>".encode()
        send(handler, 200, body, "text/html; charset=utf-8")


@pytest.fixture
def slow_page() -> Iterator[SlowPage]:
    page = SlowPage()
    yield page
    page.release.set()
    page.server.stop()


def analyst_client(live: LiveServer) -> httpx.Client:
    settings = live.settings
    policy = SessionPolicy.of(settings.session_idle_minutes, settings.session_absolute_hours)
    with live.app.state.reclaim.sessions() as session:
        user = make_user(session, Role.ANALYST, "Slow Fetch Analyst")
        started = staff_sessions.start(session, user, policy, mfa_passed=True, clock=live.clock)
        session.commit()
    client = httpx.Client(base_url=live.url, timeout=20)
    client.cookies.set(STAFF_COOKIE, started.token, path="/console")
    return client


def test_a_slow_review_fetch_holds_nothing_while_reports_and_notices_go_on(
    live: LiveServer, slow_page: SlowPage, mailbox: RecordingHandler
) -> None:
    with live.app.state.reclaim.sessions() as session:
        case = make_case(session, urls=[slow_page.server.url("/slow")])
        platform = Platform(name="Photo Site", abuse_email="abuse@photos.example", language="en")
        platform.domains.append(PlatformDomain(domain="photos.example"))
        session.add(platform)
        session.commit()
        number, item_id = case.number, case.items[0].id
    with live.app.state.reclaim.sessions() as session:
        make_notice(session, live.settings, "Photo Site", stage="queued")
    # The app's clock (frozen for TOTP) is put past the moment the delivery was queued.
    live.clock.now = datetime.now(UTC) + timedelta(minutes=1)

    with analyst_client(live) as analyst:
        token = csrf_from(analyst.get(f"/console/cases/{number}").text)
        cookies = analyst.cookies
    fetched: dict[str, object] = {}

    def fetch_for_review() -> None:
        with httpx.Client(base_url=live.url, timeout=150, cookies=cookies) as slow:
            fetched["response"] = slow.post(
                f"/console/items/{item_id}/fetch", data={"csrf_token": token}
            )

    fetching = threading.Thread(target=fetch_for_review)
    fetching.start()
    try:
        assert slow_page.asked.wait(30), "the review never reached the slow page"

        # Children report while the analyst's fetch is open: every report is taken.
        acknowledged = []
        with httpx.Client(base_url=live.url, timeout=20) as child:
            for _ in range(REPORTS):
                response = child.post("/report", data=report_form(child))  # type: ignore[arg-type]
                assert response.status_code == 200, response.text[:300]
                found = _NUMBER.search(response.text)
                assert found is not None
                acknowledged.append(found.group(1))

        # The outbox delivers meanwhile (the in-process consumer runs the same task).
        outcome = live.app.state.reclaim.huey.reclaim_tasks.takedown.deliver_notices.call_local()
        assert outcome.get("sent", 0) >= 1, outcome
        assert not fetched, "the slow fetch finished before it was released"
    finally:
        slow_page.release.set()
        fetching.join(timeout=150)

    response = fetched["response"]
    assert isinstance(response, httpx.Response) and response.status_code == 303
    assert "notice=fetched" in response.headers["location"]
    with live.app.state.reclaim.sessions() as session:
        numbers = set(session.scalars(select(Case.number)))
        assert set(acknowledged) <= numbers and len(set(acknowledged)) == REPORTS
        assert session.scalar(select(func.count()).select_from(QuarantinedMedia)) == 1
        statuses = set(session.scalars(select(Delivery.status)))
    assert DeliveryStatus.SENT in statuses
    assert [m.rcpt_tos for m in mailbox.received] == [("abuse@photos.example",)]
