"""Helpers for the staff account tests: enrolled users, TOTP codes, a login through
the real pages."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx2 as httpx
import pyotp
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from reclaim import audit
from reclaim.accounts import totp
from reclaim.accounts import users as accounts
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.domain.clock import Clock
from reclaim.security.field_crypto import field_cipher
from tests.web.conftest import csrf_from

PASSWORD = "correct horse battery staple 42"


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    password: str
    secret: str
    clock: Clock  # the app's: codes are for its time, not the wall's

    def code(self, steps_ahead: int = 0) -> str:
        """The TOTP code of the app's current step (or one ``steps_ahead`` of it)."""
        return totp_code(self.secret, self.clock, steps_ahead)


def totp_code(secret: str, clock: Clock, steps_ahead: int = 0) -> str:
    return str(pyotp.TOTP(secret).at(clock().timestamp() + 30 * steps_ahead))


def enrolled(app: FastAPI, role: Role = Role.ANALYST, *, email: str | None = None) -> Person:
    """A staff user as enrolment leaves them: password, TOTP on, recovery codes none."""
    state = app.state.reclaim
    secret = totp.new_secret()
    with state.sessions() as session:
        user = accounts.create_user(
            session,
            email=email or f"{role.value}-{secrets.token_hex(3)}@staff.reclaim.test",
            role=role,
            display_name=f"Test {role.value}",
            password=PASSWORD,
            actor=audit.SYSTEM,
        )
        user.totp_secret = totp.seal(field_cipher(state.settings), secret)
        user.totp_enabled_at = datetime.now(UTC)
        session.commit()
        return Person(user.id, user.email, PASSWORD, secret, state.clock)


def user_row(app: FastAPI, user_id: int) -> User:
    sessions: sessionmaker[Session] = app.state.reclaim.sessions
    with sessions() as session:
        user = session.get(User, user_id)
        assert user is not None
        session.expunge(user)
        return user


def submit_password(
    client: TestClient, email: str, password: str, *, next_url: str = ""
) -> httpx.Response:
    page = client.get("/console/login")
    form = {"email": email, "password": password, "csrf_token": csrf_from(page.text)}
    if next_url:
        form["next"] = next_url
    return client.post("/console/login", data=form, follow_redirects=False)


def submit_code(client: TestClient, code: str, *, next_url: str = "") -> httpx.Response:
    page = client.get("/console/login/second-factor")
    assert page.status_code == 200, page.text
    form = {"code": code, "csrf_token": csrf_from(page.text), "next": next_url}
    return client.post("/console/login/second-factor", data=form, follow_redirects=False)


def log_in(client: TestClient, person: Person, *, steps_ahead: int = 0) -> httpx.Response:
    first = submit_password(client, person.email, person.password)
    assert first.status_code == 303, first.text
    return submit_code(client, person.code(steps_ahead))


def post_form(client: TestClient, page_url: str, action: str, **fields: str) -> httpx.Response:
    """Open ``page_url`` (for its CSRF token) and submit ``fields`` to ``action``."""
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    return client.post(
        action, data={**fields, "csrf_token": csrf_from(page.text)}, follow_redirects=False
    )
