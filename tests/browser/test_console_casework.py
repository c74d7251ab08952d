"""Small things that matter on a long shift, in a real browser: a note typed while the
session ran out survives the login; an unbroken note does not widen the page; a page
for another role says whose it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.cases.models import CaseNote
from reclaim.security.field_crypto import Purpose, field_cipher
from tests.browser.conftest import LiveServer, staff_context
from tests.support.cases import make_case

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path: object) -> Iterator[LiveServer]:
    with LiveServer(tmp_path) as server:  # type: ignore[arg-type]
        yield server


def new_case(live: LiveServer) -> str:
    with live.app.state.reclaim.sessions() as session:
        case = make_case(session, urls=["https://img.example.org/a.jpg"])
        session.commit()
        return case.number


def staff_page(browser: Browser, live: LiveServer, role: Role) -> Page:
    context = staff_context(browser, live, role, f"Browser {role.value}")
    return context.new_page()  # type: ignore[attr-defined,no-any-return]


def test_a_note_typed_when_the_session_expired_is_not_lost(
    browser: Browser, live: LiveServer
) -> None:
    number = new_case(live)
    page = staff_page(browser, live, Role.ANALYST)
    page.goto(f"{live.url}/console/cases/{number}")
    note = "Called the school counsellor; she will meet the girl tomorrow at 9."
    field = page.get_by_label("New internal note (never shown to the reporter)")
    field.fill(note)

    # The analyst was away longer than the idle limit: the session is over.
    live.clock.advance(minutes=live.settings.session_idle_minutes + 1)
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url("**/console/login?next=*")
    assert f"next=%2Fconsole%2Fcases%2F{number}" in page.url  # back to the case, not a 405

    # Logging in again in the same tab (the cookie the login page would set) brings the
    # case back with the note as it was typed.
    log_in_again(page, live)
    page.goto(live.url + unquote(page.url.split("next=", 1)[1]))
    assert field.input_value() == note
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url(f"**/console/cases/{number}?notice=note_added*")
    assert field.input_value() == ""  # saved: the draft is gone
    with live.app.state.reclaim.sessions() as session:
        stored = session.scalars(select(CaseNote.body)).all()
    cipher = field_cipher(live.settings)
    assert [cipher.decrypt(body, purpose=Purpose.CASE_NOTE) for body in stored] == [note]
    page.context.close()


def log_in_again(page: Page, live: LiveServer) -> None:
    """A new session for the same staff member, its cookie set in the same tab."""
    from reclaim.accounts import staff_sessions
    from reclaim.accounts.models import User
    from reclaim.accounts.staff_sessions import SessionPolicy
    from reclaim.web.csrf import STAFF_COOKIE

    settings = live.settings
    policy = SessionPolicy.of(settings.session_idle_minutes, settings.session_absolute_hours)
    with live.app.state.reclaim.sessions() as session:
        (user,) = session.scalars(select(User)).all()
        started = staff_sessions.start(session, user, policy, mfa_passed=True, clock=live.clock)
        session.commit()
    page.context.add_cookies([{"name": STAFF_COOKIE, "value": started.token, "url": live.url}])


def test_a_long_unbroken_note_stays_inside_the_page(browser: Browser, live: LiveServer) -> None:
    number = new_case(live)
    page = staff_page(browser, live, Role.ANALYST)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live.url}/console/cases/{number}")
    page.get_by_label("New internal note (never shown to the reporter)").fill("x" * 3000)
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url("**notice=note_added*")
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    page.context.close()


def test_a_page_for_another_role_says_whose_it_is(browser: Browser, live: LiveServer) -> None:
    page = staff_page(browser, live, Role.ANALYST)
    response = page.goto(f"{live.url}/console/takedown")
    assert response is not None and response.status == 403
    assert page.get_by_role("heading", name="Not for your role").is_visible()
    text = page.locator("main").inner_text()
    assert "Only these roles can do this: Supervisor." in text
    assert "Your role: Analyst." in text
    assert "reload the page" not in text  # not the expired-form message
    page.context.close()
