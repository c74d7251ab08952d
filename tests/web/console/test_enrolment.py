"""Enrolment through a one-time link: password, authenticator, recovery codes."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim import audit
from reclaim.accounts import enrolment, recovery_codes, totp
from reclaim.accounts.domain import Role
from reclaim.accounts.models import EnrolmentToken, User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.security.field_crypto import field_cipher
from tests.support.accounts import submit_code, submit_password, totp_code, user_row
from tests.web.conftest import csrf_from

GOOD_PASSWORD = "lantern orchard seventeen kettles"


@pytest.fixture(autouse=True)
def english(client: TestClient) -> None:
    client.headers["accept-language"] = "en"


def invite(app: FastAPI, *, hours: int = 72) -> tuple[int, str]:
    with app.state.reclaim.sessions() as session:
        invitation = enrolment.invite(
            session,
            email="Mei.Lin@Staff.Reclaim.test",
            role=Role.ANALYST,
            display_name="Mei Lin",
            hours=hours,
            actor=audit.SYSTEM,
        )
        session.commit()
        return invitation.user.id, invitation.token


def choose_password(
    client: TestClient, token: str, password: str, confirm: str | None = None
) -> httpx.Response:
    page = client.get(f"/console/enrol/{token}")
    return client.post(
        f"/console/enrol/{token}/password",
        data={
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )


def secret_on(html: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert match is not None, "the page shows no TOTP secret"
    return match.group(1).replace(" ", "")


def test_a_new_user_enrols_then_logs_in(app: FastAPI, client: TestClient) -> None:
    user_id, token = invite(app)
    page = client.get(f"/console/enrol/{token}")
    assert page.status_code == 200
    assert "mei.lin@staff.reclaim.test" in page.text
    assert 'autocomplete="new-password"' in page.text

    response = choose_password(client, token, GOOD_PASSWORD)
    assert response.status_code == 303
    step_two = client.get(f"/console/enrol/{token}/authenticator")
    assert step_two.status_code == 200
    assert 'src="data:image/svg+xml' in step_two.text  # the QR code, made on the server
    assert "style=" not in step_two.text and "<script" not in step_two.text
    secret = secret_on(step_two.text)

    # The secret is stored encrypted, under its purpose.
    stored = user_row(app, user_id).totp_secret
    assert stored is not None and secret not in stored
    assert totp.unseal(field_cipher(app.state.reclaim.settings), stored) == secret

    done = client.post(
        f"/console/enrol/{token}/authenticator",
        data={
            "code": totp_code(secret, app.state.reclaim.clock),
            "csrf_token": csrf_from(step_two.text),
        },
    )
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", done.text)
    assert len(codes) == 10
    assert done.headers["cache-control"] == "no-store"

    user = user_row(app, user_id)
    assert user.totp_enabled_at is not None
    with app.state.reclaim.sessions() as session:
        assert recovery_codes.remaining(session, user_id) == 10
        stored_codes = session.scalars(
            select(EnrolmentToken.used_at).where(EnrolmentToken.user_id == user_id)
        ).all()
        assert stored_codes[0] is not None
        recorded = session.scalars(select(AuditEvent.tag)).all()
    assert AuditTag.USER_ENROLLED.value in recorded
    assert AuditTag.RECOVERY_CODES_ISSUED.value in recorded

    # The link is spent.
    assert client.get(f"/console/enrol/{token}").status_code == 404

    # And the new account logs in (a code of the next step: the current one is used).
    assert submit_password(client, "mei.lin@staff.reclaim.test", GOOD_PASSWORD).status_code == 303
    next_code = totp_code(secret, app.state.reclaim.clock, 1)
    assert submit_code(client, next_code).status_code == 303
    assert client.get("/console/account").status_code == 200


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short one", None, "Use at least 12 characters."),
        ("password1234", None, "one of the most common passwords"),
        ("Qwertyuiop123!", None, "one of the most common passwords"),
        ("aaaaaaaaaaaaaaaa", None, "easy to guess"),
        ("mei.lin.staff.reclaim", None, "easy to guess"),
        (GOOD_PASSWORD, GOOD_PASSWORD + "x", "not the same"),
    ],
)
def test_weak_passwords_are_refused(
    app: FastAPI, client: TestClient, password: str, confirm: str | None, message: str
) -> None:
    user_id, token = invite(app)
    response = choose_password(client, token, password, confirm)
    assert response.status_code == 400
    assert message in response.text
    assert user_row(app, user_id).password_hash is None
    assert client.get(f"/console/enrol/{token}").status_code == 200  # still on step one


def test_a_wrong_code_keeps_the_enrolment_open(app: FastAPI, client: TestClient) -> None:
    user_id, token = invite(app)
    choose_password(client, token, GOOD_PASSWORD)
    page = client.get(f"/console/enrol/{token}/authenticator")
    secret = secret_on(page.text)
    wrong = totp_code(secret, app.state.reclaim.clock, 10)
    response = client.post(
        f"/console/enrol/{token}/authenticator",
        data={"code": wrong, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 400
    assert "does not match" in response.text
    assert user_row(app, user_id).totp_enabled_at is None
    # Until the code is confirmed, the password alone does not log in.
    refused = submit_password(client, "mei.lin@staff.reclaim.test", GOOD_PASSWORD)
    assert refused.status_code == 400
    assert "not set up yet" in refused.text


def test_step_two_before_step_one_goes_back(app: FastAPI, client: TestClient) -> None:
    _, token = invite(app)
    response = client.get(f"/console/enrol/{token}/authenticator", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/enrol/{token}"


def test_after_the_password_the_link_resumes_at_step_two(app: FastAPI, client: TestClient) -> None:
    _, token = invite(app)
    choose_password(client, token, GOOD_PASSWORD)
    response = client.get(f"/console/enrol/{token}", follow_redirects=False)
    assert response.headers["location"] == f"/console/enrol/{token}/authenticator"


def test_expired_unknown_and_replaced_links_do_not_work(app: FastAPI, client: TestClient) -> None:
    user_id, token = invite(app)
    assert client.get("/console/enrol/not-a-real-token").status_code == 404
    with app.state.reclaim.sessions() as session:
        record = session.scalars(select(EnrolmentToken)).one()
        record.expires_at = app.state.reclaim.clock() - timedelta(minutes=1)
        session.commit()
    expired = client.get(f"/console/enrol/{token}")
    assert expired.status_code == 404
    assert "This link does not work" in expired.text

    with app.state.reclaim.sessions() as session:
        user = session.get(User, user_id)
        assert user is not None
        newer = enrolment.issue_link(session, user, hours=1, actor=audit.SYSTEM)
        older = enrolment.issue_link(session, user, hours=1, actor=audit.SYSTEM)
        session.commit()
    assert client.get(f"/console/enrol/{newer}").status_code == 404  # replaced by `older`
    assert client.get(f"/console/enrol/{older}").status_code == 200


def test_a_deactivated_users_link_stops_working(app: FastAPI, client: TestClient) -> None:
    user_id, token = invite(app)
    with app.state.reclaim.sessions() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.is_active = False
        session.commit()
    assert client.get(f"/console/enrol/{token}").status_code == 404


def test_enrolment_events_are_audited(app: FastAPI) -> None:
    user_id, _ = invite(app)
    with app.state.reclaim.sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.tag for e in events] == [
        AuditTag.USER_CREATED.value,
        AuditTag.ENROLMENT_LINK_CREATED.value,
    ]
    assert all(e.target_id == user_id for e in events)
