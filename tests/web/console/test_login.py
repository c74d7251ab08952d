"""Logging in through the console pages: password, second factor, rotation, throttling."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from huey import MemoryHuey
from sqlalchemy import select

from reclaim import audit
from reclaim.accounts import enrolment, login, recovery_codes, staff_sessions
from reclaim.accounts import users as accounts
from reclaim.accounts.domain import Role
from reclaim.accounts.models import StaffSession, User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.web.app import create_app
from reclaim.web.csrf import STAFF_COOKIE
from tests.support.accounts import (
    enrolled,
    log_in,
    submit_code,
    submit_password,
    user_row,
)
from tests.support.clock import FakeClock, mid_totp_step
from tests.support.settings import make_settings

GENERIC = "That email address and password do not match an active account."
BASE = "http://127.0.0.1"
ENGLISH = {"accept-language": "en"}


@pytest.fixture(autouse=True)
def english(client: TestClient) -> None:
    client.headers.update(ENGLISH)


def tags(app: FastAPI) -> list[str]:
    with app.state.reclaim.sessions() as session:
        return list(session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))


def staff_cookie(response_headers: list[str]) -> str:
    for header in response_headers:
        if header.startswith(f"{STAFF_COOKIE}="):
            return header
    raise AssertionError("no staff cookie was set")


def test_login_with_password_and_totp(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    first = submit_password(client, person.email, person.password)
    assert first.status_code == 303
    assert first.headers["location"].startswith("/console/login/second-factor")
    cookie = staff_cookie(first.headers.get_list("set-cookie"))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http in tests; see the https test below
    half_token = client.cookies.get(STAFF_COOKIE)

    # Half logged in: the console itself is still out of reach.
    blocked = client.get("/console/account", follow_redirects=False)
    assert blocked.status_code == 303
    assert blocked.headers["location"] == "/console/login/second-factor"

    second = submit_code(client, person.code())
    assert second.status_code == 303
    assert second.headers["location"] == "/console/"
    full_token = client.cookies.get(STAFF_COOKIE)
    assert full_token and full_token != half_token  # rotated

    account = client.get("/console/account")
    assert account.status_code == 200
    assert person.email in account.text
    assert tags(app)[-1] == AuditTag.LOGIN_SUCCEEDED.value
    assert user_row(app, person.id).last_login_at is not None

    # The token from before the second factor is dead.
    client.cookies.set(STAFF_COOKIE, half_token or "")
    stale = client.get("/console/account", follow_redirects=False)
    assert stale.status_code == 303
    assert stale.headers["location"].startswith("/console/login?next=")


def test_cookies_are_secure_over_https(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path, database_url=database_url, base_url="https://reclaim.example.org"
    )
    app = create_app(
        settings, huey=MemoryHuey("t", immediate=True), clock=FakeClock(mid_totp_step())
    )
    person = enrolled(app)
    with TestClient(app, base_url="https://reclaim.example.org", headers=ENGLISH) as client:
        first = submit_password(client, person.email, person.password)
        assert "Secure" in staff_cookie(first.headers.get_list("set-cookie"))


def test_next_is_followed_only_to_console_paths(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    first = submit_password(client, person.email, person.password, next_url="/console/account")
    assert first.headers["location"].endswith("next=%2Fconsole%2Faccount")
    response = submit_code(client, person.code(), next_url="/console/account")
    assert response.headers["location"] == "/console/account"


@pytest.mark.parametrize(
    "hostile", ["https://evil.example/", "//evil.example/console", "/\\evil.example", "/report"]
)
def test_next_never_leaves_the_console(app: FastAPI, client: TestClient, hostile: str) -> None:
    person = enrolled(app)
    submit_password(client, person.email, person.password, next_url=hostile)
    response = submit_code(client, person.code(), next_url=hostile)
    assert response.headers["location"] == "/console/"


def test_anonymous_console_pages_redirect_to_login_with_next(client: TestClient) -> None:
    response = client.get("/console/account?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=%2Fconsole%2Faccount%3Fx%3D1"


@pytest.mark.parametrize("case", ["unknown", "wrong", "inactive"])
def test_every_refusal_looks_the_same(app: FastAPI, client: TestClient, case: str) -> None:
    person = enrolled(app)
    email, password = person.email, person.password
    if case == "unknown":
        email = "nobody@staff.reclaim.test"
    elif case == "wrong":
        password = "not the password at all"
    else:
        with app.state.reclaim.sessions() as session:
            user = session.get(User, person.id)
            assert user is not None
            user.is_active = False
            session.commit()
    response = submit_password(client, email, password)
    assert response.status_code == 400
    assert GENERIC in response.text
    assert STAFF_COOKIE not in client.cookies
    assert tags(app)[-1] == AuditTag.LOGIN_FAILED.value


def test_unknown_accounts_cost_an_argon2_verification(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = login.verify_secret

    def counting(stored: str, candidate: str) -> bool:
        calls.append(stored)
        return real(stored, candidate)

    monkeypatch.setattr(login, "verify_secret", counting)
    submit_password(client, "nobody@staff.reclaim.test", "some password here")
    assert len(calls) == 1
    assert calls[0].startswith("$argon2id$")


def test_users_who_have_not_enrolled_cannot_log_in(app: FastAPI, client: TestClient) -> None:
    with app.state.reclaim.sessions() as session:
        invitation = enrolment.invite(
            session,
            email="new@staff.reclaim.test",
            role=Role.ANALYST,
            display_name="New",
            hours=72,
            actor=audit.SYSTEM,
        )
        accounts.set_password(invitation.user, "a perfectly fine password")
        session.commit()
    response = submit_password(client, "new@staff.reclaim.test", "a perfectly fine password")
    assert response.status_code == 400
    assert "not set up yet" in response.text
    assert STAFF_COOKIE not in client.cookies


def test_a_totp_code_works_only_once(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    code = person.code()
    submit_password(client, person.email, person.password)
    assert submit_code(client, code).status_code == 303
    with TestClient(app, base_url=BASE, headers=ENGLISH) as other:
        submit_password(other, person.email, person.password)
        replay = submit_code(other, code)
        assert replay.status_code == 400
        assert "not valid" in replay.text
        assert AuditTag.SECOND_FACTOR_FAILED.value in tags(app)
        # A code from the next step is still good (clocks drift by a step).
        assert submit_code(other, person.code(steps_ahead=1)).status_code == 303


def test_codes_outside_the_drift_window_are_refused(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    submit_password(client, person.email, person.password)
    assert submit_code(client, person.code(steps_ahead=2)).status_code == 400
    assert submit_code(client, person.code(steps_ahead=-2)).status_code == 400
    assert submit_code(client, person.code(steps_ahead=-1)).status_code == 303


def test_a_recovery_code_works_once(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    with app.state.reclaim.sessions() as session:
        user = session.get(User, person.id)
        assert user is not None
        codes = recovery_codes.issue(session, user, actor=audit.SYSTEM)
        session.commit()
    submit_password(client, person.email, person.password)
    # Typed in capitals without the dashes, as people do.
    response = submit_code(client, codes[3].replace("-", " ").upper())
    assert response.status_code == 303
    assert client.get("/console/account").status_code == 200
    with app.state.reclaim.sessions() as session:
        used = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.RECOVERY_CODE_USED.value)
        ).one()
        assert used.details["remaining"] == 9
        assert recovery_codes.remaining(session, person.id) == 9

    with TestClient(app, base_url=BASE, headers=ENGLISH) as other:
        submit_password(other, person.email, person.password)
        assert submit_code(other, codes[3]).status_code == 400


def test_second_factor_page_needs_the_password_first(client: TestClient) -> None:
    response = client.get("/console/login/second-factor", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=")


@pytest.fixture
def strict_app(tmp_path: Path, database_url: str) -> Iterator[FastAPI]:
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        login_max_failures_per_account=3,
        login_max_failures_per_client=5,
        login_lockout_minutes=15,
    )
    app = create_app(
        settings, huey=MemoryHuey("t", immediate=True), clock=FakeClock(mid_totp_step())
    )
    yield app
    app.state.reclaim.engine.dispose()  # tests read the database after the client closed


def test_an_account_locks_after_repeated_failures(strict_app: FastAPI) -> None:
    person = enrolled(strict_app)
    with TestClient(strict_app, base_url=BASE, headers=ENGLISH) as client:
        for _ in range(2):
            assert submit_password(client, person.email, "wrong password!").status_code == 400
        # The failure that reaches the limit already says so.
        assert submit_password(client, person.email, "wrong password!").status_code == 429
        locked = submit_password(client, person.email, person.password)
        assert locked.status_code == 429
        assert "Too many failed attempts" in locked.text
        assert STAFF_COOKIE not in client.cookies
    recorded = tags(strict_app)
    assert recorded.count(AuditTag.LOGIN_FAILED.value) == 3
    assert recorded.count(AuditTag.LOGIN_LOCKED.value) == 2  # on the third failure, then refused


def test_an_unknown_email_locks_like_a_real_one(strict_app: FastAPI) -> None:
    with TestClient(strict_app, base_url=BASE, headers=ENGLISH) as client:
        for _ in range(3):
            submit_password(client, "nobody@staff.reclaim.test", "wrong password!")
        assert submit_password(client, "nobody@staff.reclaim.test", "x" * 12).status_code == 429


def test_a_client_locks_whatever_the_accounts(strict_app: FastAPI) -> None:
    people = [enrolled(strict_app) for _ in range(3)]
    with TestClient(strict_app, base_url=BASE, headers=ENGLISH) as client:
        for index in range(4):
            person = people[index % 3]
            assert submit_password(client, person.email, "wrong password!").status_code == 400
        assert submit_password(client, people[0].email, "wrong password!").status_code == 429
        # A third account, right password: this client is locked out.
        fresh = enrolled(strict_app)
        assert submit_password(client, fresh.email, fresh.password).status_code == 429


def test_second_factor_failures_lock_the_account(strict_app: FastAPI) -> None:
    person = enrolled(strict_app)
    with TestClient(strict_app, base_url=BASE, headers=ENGLISH) as client:
        submit_password(client, person.email, person.password)
        for _ in range(2):
            assert submit_code(client, "000000").status_code == 400
        last = submit_code(client, "000000")
        assert last.status_code == 303
        assert last.headers["location"] == "/console/login?notice=locked"
        assert "Too many wrong codes" in client.get(last.headers["location"]).text
        # Even the right password is refused now.
        assert submit_password(client, person.email, person.password).status_code == 429


def test_a_successful_login_clears_the_account_failures(strict_app: FastAPI) -> None:
    person = enrolled(strict_app)
    with TestClient(strict_app, base_url=BASE, headers=ENGLISH) as client:
        for _ in range(2):
            submit_password(client, person.email, "wrong password!")
        assert log_in(client, person).status_code == 303
    with TestClient(strict_app, base_url=BASE, headers=ENGLISH) as client:
        for _ in range(2):
            submit_password(client, person.email, "wrong password!")
        # 2 + 2 failures would have locked a 3-failure account without the reset.
        assert submit_password(client, person.email, person.password).status_code == 303


def test_logout_ends_the_session(app: FastAPI, client: TestClient) -> None:
    person = enrolled(app)
    log_in(client, person)
    token = client.cookies.get(STAFF_COOKIE)
    page = client.get("/console/account")
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
    assert csrf is not None
    response = client.post(
        "/console/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?notice=logged_out"
    assert STAFF_COOKIE not in client.cookies
    assert AuditTag.LOGGED_OUT.value in tags(app)
    client.cookies.set(STAFF_COOKIE, token or "")
    assert client.get("/console/account", follow_redirects=False).status_code == 303
    with app.state.reclaim.sessions() as session:
        record = session.scalar(
            select(StaffSession).where(
                StaffSession.token_hash == staff_sessions.token_digest(token or "")
            )
        )
        assert record is not None and record.revoked_at is not None


def test_the_login_page_sends_logged_in_staff_on(app: FastAPI, client: TestClient) -> None:
    log_in(client, enrolled(app))
    response = client.get("/console/login?next=/console/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/account"


def test_login_pages_are_translated(app: FastAPI, client: TestClient) -> None:
    page = client.get("/console/login", headers={"accept-language": "zh-TW"})
    assert "工作人員登入" in page.text
    assert 'autocomplete="current-password"' in page.text
    english = client.get("/console/login", headers={"accept-language": "en"})
    assert "Staff login" in english.text


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.ANALYST, "/console/"),
        (Role.SUPERVISOR, "/console/"),
        (Role.ADMIN, "/console/users"),
        (Role.SOCIAL_WORKER, "/console/referred"),
        (Role.POLICE_LIAISON, "/console/referred"),
    ],
)
def test_each_role_lands_on_a_page_it_may_open(
    app: FastAPI, client: TestClient, role: Role, landing: str
) -> None:
    response = log_in(client, enrolled(app, role))
    assert response.headers["location"] == landing
