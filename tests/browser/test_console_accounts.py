"""Staff accounts in a real browser: enrolment with TOTP (the secret read off the page,
the code computed as an authenticator app would), login with the second factor, logout,
and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from reclaim import audit
from reclaim.accounts import enrolment
from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.web.csrf import STAFF_COOKIE
from tests.browser.conftest import LiveServer
from tests.support.accounts import enrolled, totp_code

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

PASSWORD = "amber tortoise under nine lanterns"


@pytest.fixture
def staff_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """An English-speaking desktop browser; fails the test on a script or CSP error."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    # 4xx pages are shown on purpose (a wrong code); anything else is a real problem.
    assert [p for p in problems if "status of 4" not in p] == []


def invite(live: LiveServer, email: str, role: Role) -> str:
    with live.app.state.reclaim.sessions() as session:
        invitation = enrolment.invite(
            session, email=email, role=role, display_name="Lin Yi", hours=72, actor=audit.SYSTEM
        )
        session.commit()
        return enrolment.enrolment_link(live.settings.base_url, invitation.token)


def next_code(live: LiveServer, secret: str) -> str:
    """A code for the app's next 30-second step: the current one is already used."""
    return totp_code(secret, live.clock, 1)


def staff_cookie(page: Page) -> dict[str, object] | None:
    cookies = [c for c in page.context.cookies() if c["name"] == STAFF_COOKIE]
    return dict(cookies[0]) if cookies else None


def test_enrol_log_in_and_log_out(staff_page: Page, live_server: LiveServer) -> None:
    page = staff_page
    page.goto(invite(live_server, "lin.yi@staff.reclaim.test", Role.SUPERVISOR))

    # Step 1: a password (a common one first, which is refused).
    page.get_by_label("New password").fill("password123456")
    page.get_by_label("The same password again").fill("password123456")
    page.get_by_role("button", name="Save and continue").click()
    assert "one of the most common passwords" in page.content()
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Save and continue").click()

    # Step 2: the QR code is an image the CSP lets through; the key is there as text.
    qr = page.get_by_role("img", name="QR code to add Reclaim to your authenticator app")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("The 6-digit code the app shows").fill(totp_code(secret, live_server.clock))
    page.get_by_role("button", name="Confirm the code").click()

    # Ten recovery codes, once.
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="I have saved my codes: log in").click()

    # Log in: password, then a TOTP code.
    page.get_by_label("Work email address").fill("lin.yi@staff.reclaim.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Next step").click()
    page.get_by_label("Code from your app, or a recovery code").fill("000000")
    page.get_by_role("button", name="Log in").click()
    assert "That code is not valid" in page.content()
    page.get_by_label("Code from your app, or a recovery code").fill(next_code(live_server, secret))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/console/")

    cookie = staff_cookie(page)
    assert cookie is not None
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/console"

    page.goto(f"{live_server.url}/console/account")
    assert page.get_by_role("heading", name="Your account").is_visible()
    assert page.get_by_text("This browser").is_visible()

    # Log out from the menu.
    page.get_by_role("button", name="Log out").first.click()
    page.wait_for_url(f"{live_server.url}/console/login?notice=logged_out")
    assert page.get_by_text("You are logged out.").is_visible()
    assert staff_cookie(page) is None
    page.goto(f"{live_server.url}/console/account")
    assert page.url.startswith(f"{live_server.url}/console/login?next=")

    with live_server.app.state.reclaim.sessions() as session:
        recorded = set(session.scalars(select(AuditEvent.tag)))
    assert {
        AuditTag.USER_ENROLLED.value,
        AuditTag.RECOVERY_CODES_ISSUED.value,
        AuditTag.SECOND_FACTOR_FAILED.value,
        AuditTag.LOGIN_SUCCEEDED.value,
        AuditTag.LOGGED_OUT.value,
    } <= recorded


def test_a_supervisor_reads_and_filters_the_audit_trail(
    staff_page: Page, live_server: LiveServer
) -> None:
    page = staff_page
    supervisor = enrolled(live_server.app, Role.SUPERVISOR)
    analyst = enrolled(live_server.app, Role.ANALYST)
    page.goto(f"{live_server.url}/console/audit")
    page.get_by_label("Work email address").fill(supervisor.email)
    page.get_by_label("Password").fill(supervisor.password)
    page.get_by_role("button", name="Next step").click()
    page.get_by_label("Code from your app, or a recovery code").fill(supervisor.code())
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/console/audit")  # back where the login began

    assert page.get_by_role("heading", name="Audit trail").is_visible()
    assert page.get_by_role("link", name="Audit trail").get_attribute("aria-current") == "page"
    page.get_by_label("Staff email address").fill(analyst.email)
    page.keyboard.press("Enter")  # the filter form works from the keyboard
    page.wait_for_url("**/console/audit?*")
    rows = page.locator(".audit-table tbody tr")
    assert rows.count() == 1
    assert AuditTag.USER_CREATED.value in rows.first.inner_text()

    with page.expect_download() as download:
        page.get_by_role("link", name="Export as CSV").click()
    exported = download.value.path().read_text(encoding="utf-8")
    assert exported.splitlines()[0].startswith("id,created_at,tag")
    assert analyst.email in exported

    with live_server.app.state.reclaim.sessions() as session:
        viewed = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.AUDIT_VIEWED.value)
        ).all()
        exported_events = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.AUDIT_EXPORTED.value)
        ).all()
    assert any(e.details.get("user") == analyst.email for e in viewed)
    assert [e.details["format"] for e in exported_events] == ["csv"]
