"""User administration in the console (admins)."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts import enrolment
from reclaim.accounts import users as accounts
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from tests.support.accounts import (
    Person,
    enrolled,
    log_in,
    post_form,
    submit_password,
    user_row,
)


@pytest.fixture(autouse=True)
def english(client: TestClient) -> None:
    client.headers["accept-language"] = "en"


@pytest.fixture
def admin(app: FastAPI, client: TestClient) -> Person:
    person = enrolled(app, Role.ADMIN)
    assert log_in(client, person).status_code == 303
    return person


def events(app: FastAPI, tag: AuditTag) -> list[AuditEvent]:
    with app.state.reclaim.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag.value)))


def link_on(html: str) -> str:
    match = re.search(r'id="enrolment-link">([^<]+)<', html)
    assert match is not None, "no enrolment link on the page"
    return match.group(1)


def test_an_admin_invites_a_user(app: FastAPI, client: TestClient, admin: Person) -> None:
    response = post_form(
        client,
        "/console/users",
        "/console/users",
        email="Wei.Chen@Staff.Reclaim.test",
        name="Wei Chen",
        role="social_worker",
    )
    assert response.status_code == 201
    link = link_on(response.text)
    base = app.state.reclaim.settings.base_url
    assert link.startswith(f"{base}/console/enrol/")
    with app.state.reclaim.sessions() as session:
        user = accounts.find_user(session, "wei.chen@staff.reclaim.test")
        assert user is not None
        assert user.role is Role.SOCIAL_WORKER and user.password_hash is None
        assert enrolment.find(session, link.rsplit("/", 1)[1]) is not None
    created = events(app, AuditTag.USER_CREATED)[-1]
    assert created.actor_type == "user" and created.actor_id == admin.id
    assert events(app, AuditTag.ENROLMENT_LINK_CREATED)[-1].actor_id == admin.id
    # The new user shows up in the list as waiting for enrolment.
    listing = client.get("/console/users").text
    assert "wei.chen@staff.reclaim.test" in listing
    assert "Waiting for enrolment" in listing


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address", "role": "analyst"}, "Enter a valid email address."),
        ({"email": "x@staff.reclaim.test", "role": "wizard"}, "Choose a role."),
    ],
)
def test_bad_invitations_are_refused(
    client: TestClient, admin: Person, fields: dict[str, str], message: str
) -> None:
    response = post_form(client, "/console/users", "/console/users", name="X", **fields)
    assert response.status_code == 400
    assert message in response.text


def test_an_existing_email_is_refused(client: TestClient, admin: Person) -> None:
    response = post_form(
        client, "/console/users", "/console/users", email=admin.email.upper(), role="analyst"
    )
    assert response.status_code == 400
    assert "already an account" in response.text


def test_changing_a_role(app: FastAPI, client: TestClient, admin: Person) -> None:
    other = enrolled(app, Role.ANALYST)
    page = f"/console/users/{other.id}"
    response = post_form(client, page, f"{page}/role", role="supervisor")
    assert response.headers["location"] == f"{page}?notice=role_changed"
    assert user_row(app, other.id).role is Role.SUPERVISOR
    updated = events(app, AuditTag.USER_UPDATED)[-1]
    assert updated.details == {"role": {"from": "analyst", "to": "supervisor"}}


def test_deactivating_ends_sessions_and_login(
    app: FastAPI, client: TestClient, admin: Person
) -> None:
    other = enrolled(app, Role.ANALYST)
    with TestClient(app, base_url="http://127.0.0.1") as browser:
        log_in(browser, other)
        page = f"/console/users/{other.id}"
        post_form(client, page, f"{page}/deactivate")
        assert browser.get("/console/account", follow_redirects=False).status_code == 303
        assert log_in_refused(browser, other)
    assert user_row(app, other.id).is_active is False
    assert events(app, AuditTag.USER_DEACTIVATED)[-1].details == {"sessions_ended": 1}

    post_form(client, f"/console/users/{other.id}", f"/console/users/{other.id}/reactivate")
    assert user_row(app, other.id).is_active is True


def log_in_refused(browser: TestClient, person: Person) -> bool:
    return submit_password(browser, person.email, person.password).status_code == 400


def test_resetting_wipes_credentials_and_issues_a_link(
    app: FastAPI, client: TestClient, admin: Person
) -> None:
    other = enrolled(app, Role.ANALYST)
    page = f"/console/users/{other.id}"
    response = post_form(client, page, f"{page}/reset")
    assert response.status_code == 200
    link = link_on(response.text)
    user = user_row(app, other.id)
    assert user.password_hash is None and user.totp_secret is None
    assert user.totp_enabled_at is None
    assert client.get(link.removeprefix(app.state.reclaim.settings.base_url)).status_code == 200
    assert events(app, AuditTag.USER_UPDATED)[-1].details["reset"] is True


def test_revoking_a_users_sessions(app: FastAPI, client: TestClient, admin: Person) -> None:
    other = enrolled(app, Role.SUPERVISOR)
    with TestClient(app, base_url="http://127.0.0.1") as browser:
        log_in(browser, other)
        page = f"/console/users/{other.id}"
        response = post_form(client, page, f"{page}/revoke-sessions")
        assert response.headers["location"] == f"{page}?notice=sessions_revoked"
        assert browser.get("/console/account", follow_redirects=False).status_code == 303
    revoked = events(app, AuditTag.SESSIONS_REVOKED)[-1]
    assert revoked.target_id == other.id and revoked.actor_id == admin.id


@pytest.mark.parametrize("action", ["role", "deactivate", "reset", "revoke-sessions"])
def test_admins_do_not_change_themselves_here(
    app: FastAPI, client: TestClient, admin: Person, action: str
) -> None:
    page = f"/console/users/{admin.id}"
    assert "This is your own account" in client.get(page).text
    response = post_form(client, page, f"{page}/{action}", role="analyst")
    assert response.status_code == 409
    with app.state.reclaim.sessions() as session:
        user = session.get(User, admin.id)
        assert user is not None and user.is_active and user.role is Role.ADMIN


def test_unknown_users_are_not_found(client: TestClient, admin: Person) -> None:
    assert client.get("/console/users/999999").status_code == 404
