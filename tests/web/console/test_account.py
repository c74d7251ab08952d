"""One's own account: sessions, log out everywhere, password change, recovery codes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts import recovery_codes, staff_sessions, users
from reclaim.accounts.models import StaffSession
from reclaim.accounts.staff_sessions import SessionPolicy
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.security.secret_hashes import verify_secret
from reclaim.web.csrf import STAFF_COOKIE
from tests.support.accounts import Person, enrolled, log_in, post_form, user_row

NEW_PASSWORD = "violet harbour lamps and ninety owls"


@pytest.fixture(autouse=True)
def english(client: TestClient) -> None:
    client.headers["accept-language"] = "en"


def second_browser(app: FastAPI, person: Person, steps_ahead: int) -> TestClient:
    browser = TestClient(app, base_url="http://127.0.0.1", headers={"accept-language": "en"})
    assert log_in(browser, person, steps_ahead=steps_ahead).status_code == 303
    return browser


def live_count(app: FastAPI, user_id: int) -> int:
    with app.state.reclaim.sessions() as session:
        policy = SessionPolicy.of(30, 12)
        return users.live_session_counts(session, policy).get(user_id, 0)


def last_tag(app: FastAPI) -> str:
    with app.state.reclaim.sessions() as session:
        return session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id.desc())).first() or ""


def test_the_account_page_lists_live_sessions(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    log_in(client, person, steps_ahead=-1)
    with second_browser(app, person, steps_ahead=0):
        page = client.get("/console/account")
    assert page.status_code == 200
    assert page.text.count('/end"') == 1  # the other session can be ended from here
    assert "This browser" in page.text
    assert "testclient" in page.text  # the user agent, to tell sessions apart


def test_ending_another_session(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    log_in(client, person, steps_ahead=-1)
    with second_browser(app, person, steps_ahead=0) as other:
        page = client.get("/console/account")
        action = re.search(r'action="(/console/account/sessions/\d+/end)"', page.text)
        assert action is not None
        response = post_form(client, "/console/account", action.group(1))
        assert response.headers["location"] == "/console/account?notice=session_ended"
        assert other.get("/console/account", follow_redirects=False).status_code == 303
        assert client.get("/console/account").status_code == 200
    assert last_tag(app) == AuditTag.SESSIONS_REVOKED.value


def test_someone_elses_session_cannot_be_ended(app: FastAPI, client: TestClient) -> None:
    victim = enrolled(app)
    with second_browser(app, victim, steps_ahead=0):
        with app.state.reclaim.sessions() as session:
            target = session.scalars(
                select(StaffSession.id).where(StaffSession.revoked_at.is_(None))
            ).one()
        log_in(client, enrolled(app))
        response = post_form(client, "/console/account", f"/console/account/sessions/{target}/end")
        assert response.status_code == 404
        assert live_count(app, victim.id) == 1


def test_log_out_everywhere(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    log_in(client, person, steps_ahead=-1)
    with second_browser(app, person, steps_ahead=0) as other:
        assert live_count(app, person.id) == 2
        response = post_form(client, "/console/account", "/console/account/sessions/end-all")
        assert response.status_code == 303
        assert response.headers["location"] == "/console/login?notice=sessions_ended"
        assert STAFF_COOKIE not in client.cookies
        assert other.get("/console/account", follow_redirects=False).status_code == 303
    assert live_count(app, person.id) == 0
    with app.state.reclaim.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.SESSIONS_REVOKED.value)
        ).one()
    assert event.details["sessions_ended"] == 2


def test_changing_the_password(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    log_in(client, person, steps_ahead=-1)
    with second_browser(app, person, steps_ahead=0) as other:
        wrong = post_form(
            client,
            "/console/account",
            "/console/account/password",
            current="not my password",
            new=NEW_PASSWORD,
            confirm=NEW_PASSWORD,
        )
        assert wrong.status_code == 400
        assert "current password is not correct" in wrong.text
        weak = post_form(
            client,
            "/console/account",
            "/console/account/password",
            current=person.password,
            new="password12345",
            confirm="password12345",
        )
        assert weak.status_code == 400
        assert "most common passwords" in weak.text

        done = post_form(
            client,
            "/console/account",
            "/console/account/password",
            current=person.password,
            new=NEW_PASSWORD,
            confirm=NEW_PASSWORD,
        )
        assert done.headers["location"] == "/console/account?notice=password_changed"
        # This browser stays logged in; the other one is logged out.
        assert "Your password is changed" in client.get(done.headers["location"]).text
        assert other.get("/console/account", follow_redirects=False).status_code == 303
    user = user_row(app, person.id)
    assert user.password_hash is not None
    assert verify_secret(user.password_hash, NEW_PASSWORD)
    assert user.password_changed_at is not None
    assert last_tag(app) == AuditTag.PASSWORD_CHANGED.value


def test_new_recovery_codes_replace_the_old_ones(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    log_in(client, person)
    refused = post_form(
        client, "/console/account", "/console/account/recovery-codes", password="wrong one"
    )
    assert refused.status_code == 400
    first = post_form(
        client, "/console/account", "/console/account/recovery-codes", password=person.password
    )
    assert first.status_code == 200
    old_codes = re.findall(r"<code>([a-z2-9-]{14})</code>", first.text)
    assert len(old_codes) == 10
    second = post_form(
        client, "/console/account", "/console/account/recovery-codes", password=person.password
    )
    new_codes = re.findall(r"<code>([a-z2-9-]{14})</code>", second.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    with app.state.reclaim.sessions() as session:
        assert recovery_codes.remaining(session, person.id) == 10
        user = users.get_user(session, person.id)
        assert user is not None
        assert not recovery_codes.use(session, user, old_codes[0])
        assert recovery_codes.use(session, user, new_codes[0])
    assert "10 unused recovery codes" in client.get("/console/account").text


def test_an_idle_session_ends(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    log_in(client, person)
    token = client.cookies.get(STAFF_COOKIE) or ""
    idle = app.state.reclaim.settings.session_idle_minutes
    with app.state.reclaim.sessions() as session:
        digest = staff_sessions.token_digest(token)
        record = session.scalars(
            select(StaffSession).where(StaffSession.token_hash == digest)
        ).one()
        record.last_seen_at = app.state.reclaim.clock() - timedelta(minutes=idle, seconds=1)
        session.commit()
    response = client.get("/console/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=")
    assert live_count(app, person.id) == 0


def test_a_deactivated_user_is_logged_out_at_once(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    log_in(client, person)
    with app.state.reclaim.sessions() as session:
        user = users.get_user(session, person.id)
        assert user is not None
        user.is_active = False  # directly, without ending sessions: resolve still refuses
        session.commit()
    assert client.get("/console/account", follow_redirects=False).status_code == 303
