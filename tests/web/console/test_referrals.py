"""Referrals in the console: agency staff see only their agency's sent referrals and
only what was shared, every look audited; supervisors send; agencies answer (console
or one-time link); admins keep the directory and see no case content."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import AgeGroup
from reclaim.referrals import agencies, consent, referring
from reclaim.referrals.domain import AgencyKind, ConsentHow, ConsentSubject, ReferralStatus, Share
from reclaim.referrals.models import Referral, ReferralDelivery
from reclaim.referrals.tokens import answer_token
from reclaim.referrals.verifying import verify_package
from reclaim.security.field_crypto import field_cipher
from reclaim.security.signing import signing_keyring
from reclaim.takedown.domain import DeliveryStatus
from tests.support.cases import make_case, make_user
from tests.support.referrals import make_agency
from tests.web.conftest import csrf_from

Login = Callable[..., User]
EN = {"accept-language": "en"}


def _refer(
    app: FastAPI, *, police_consent: bool | None, agency: str = "Police unit", sent: bool = True
) -> tuple[str, str]:
    """A minor's case referred to a police unit; returns (case number, reference)."""
    state = app.state.reclaim
    with state.sessions() as session:
        found = session.scalar(select(agencies.Agency).where(agencies.Agency.name == agency))
        unit = found or make_agency(session, agency, AgencyKind.POLICE)
        case = make_case(
            session,
            urls=["https://example.org/profile/offender"],
            age=AgeGroup.UNDER_18,
            contact="line: sunny_day",
            cipher=field_cipher(state.settings),
            description="He says he will post them tonight.",
        )
        if police_consent is not None:
            consent.record_consent(
                session,
                case,
                ConsentSubject.POLICE,
                granted=police_consent,
                how=ConsentHow.PHONE,
                actor=audit.SYSTEM,
            )
        sender = make_user(session, Role.SUPERVISOR)
        referral = referring.draft(
            session,
            case,
            unit,
            [Share.CONTACT, Share.WORDS],
            actor=audit.SYSTEM,
            created_by_id=None,
        )
        if sent:
            referring.send(
                session,
                referral,
                referring.policy_of(state.settings),
                sender_id=sender.id,
                secret=state.settings.secret_key.get_secret_value().encode(),
            )
        session.commit()
        return case.number, referral.reference


def _member(app: FastAPI, user: User, agency: str = "Police unit") -> None:
    with app.state.reclaim.sessions() as session:
        found = session.scalar(select(agencies.Agency).where(agencies.Agency.name == agency))
        assert found is not None
        agencies.add_member(session, found, session.get_one(User, user.id), actor=audit.SYSTEM)
        session.commit()


def _events(app: FastAPI, tag: AuditTag) -> list[AuditEvent]:
    with app.state.reclaim.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag.value)))


def test_police_see_only_their_agencys_sent_referrals_without_refused_contact(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number, reference = _refer(app, police_consent=False)
    _, draft = _refer(app, police_consent=True, sent=False)
    _, elsewhere = _refer(app, police_consent=True, agency="Another unit")
    officer = login_as(Role.POLICE_LIAISON)
    _member(app, officer)

    listing = client.get("/console/referred", headers=EN).text
    assert reference in listing and draft not in listing and elsewhere not in listing
    assert client.get(f"/console/referred/{draft}").status_code == 404
    assert client.get(f"/console/referred/{elsewhere}").status_code == 404
    assert client.get(f"/console/cases/{number}").status_code == 403

    html = client.get(f"/console/referred/{reference}", headers=EN).text
    assert number in html and "https://example.org/profile/offender" in html
    assert "line: sunny_day" not in html  # consent refused: no contact, no words
    assert "He says he will post them tonight." not in html
    (view,) = _events(app, AuditTag.REFERRAL_VIEWED)
    assert view.actor_id == officer.id


def test_with_consent_the_contact_and_words_are_shared(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    _, reference = _refer(app, police_consent=True)
    officer = login_as(Role.POLICE_LIAISON)
    _member(app, officer)
    html = client.get(f"/console/referred/{reference}", headers=EN).text
    assert "line: sunny_day" in html and "He says he will post them tonight." in html


def test_staff_without_an_agency_see_nothing(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    _, reference = _refer(app, police_consent=True)
    login_as(Role.SOCIAL_WORKER)
    assert reference not in client.get("/console/referred").text
    assert client.get(f"/console/referred/{reference}").status_code == 404


def test_the_package_downloads_verifies_and_is_logged(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    _, reference = _refer(app, police_consent=False)
    officer = login_as(Role.POLICE_LIAISON)
    _member(app, officer)
    response = client.get(f"/console/referred/{reference}/package")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert hashlib.sha256(response.content).hexdigest() == response.headers["x-package-sha256"]
    keys = signing_keyring(app.state.reclaim.settings).public_keys()
    assert verify_package(response.content, keys).ok
    assert b"sunny_day" not in response.content
    assert len(_events(app, AuditTag.EVIDENCE_EXPORTED)) == 1


def test_agencies_answer_in_the_console(app: FastAPI, client: TestClient, login_as: Login) -> None:
    _, reference = _refer(app, police_consent=True)
    officer = login_as(Role.POLICE_LIAISON)
    _member(app, officer)
    token = csrf_from(client.get(f"/console/referred/{reference}").text)
    answered = client.post(
        f"/console/referred/{reference}/answer",
        data={"csrf_token": token, "status": "acknowledged"},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    bad = client.post(
        f"/console/referred/{reference}/answer",
        data={"csrf_token": token, "status": "acknowledged"},
        follow_redirects=False,
    )
    assert "error=answer" in bad.headers["location"]
    with app.state.reclaim.sessions() as session:
        referral = session.scalars(select(Referral).where(Referral.reference == reference)).one()
        assert referral.status is ReferralStatus.ACKNOWLEDGED


def test_the_one_time_link_works_once(app: FastAPI, client: TestClient) -> None:
    _, reference = _refer(app, police_consent=True)
    state = app.state.reclaim
    with state.sessions() as session:
        referral = session.scalars(select(Referral).where(Referral.reference == reference)).one()
        token = answer_token(state.settings.secret_key.get_secret_value().encode(), referral)
    page = client.get(f"/console/referral-answer/{token}", headers=EN)
    assert page.status_code == 200 and reference in page.text
    done = client.post(
        f"/console/referral-answer/{token}",
        data={"csrf_token": csrf_from(page.text), "status": "accepted", "outcome": "investigating"},
        headers=EN,
    )
    assert done.status_code == 200 and "no longer works" in done.text
    assert client.get(f"/console/referral-answer/{token}").status_code == 404
    with state.sessions() as session:
        referral = session.scalars(select(Referral).where(Referral.reference == reference)).one()
        assert (referral.status, referral.outcome) == (ReferralStatus.ACCEPTED, "investigating")


def test_supervisors_send_what_analysts_draft(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number, _ = _refer(app, police_consent=None, sent=False)
    with app.state.reclaim.sessions() as session:
        social = make_agency(session)
        session.commit()
        social_id = social.id
    login_as(Role.ANALYST)
    page = client.get(f"/console/cases/{number}/referrals", headers=EN).text
    token = csrf_from(page)
    drafted = client.post(
        f"/console/cases/{number}/referrals",
        data={"csrf_token": token, "agency_id": str(social_id), "share": ["contact"]},
        follow_redirects=False,
    )
    assert drafted.status_code == 303
    with app.state.reclaim.sessions() as session:
        mine = session.scalars(select(Referral).where(Referral.agency_id == social_id)).one()
        reference = mine.reference
    assert (
        client.post(f"/console/referrals/{reference}/send", data={"csrf_token": token}).status_code
        == 403
    )
    consent_page = client.post(
        f"/console/cases/{number}/consent",
        data={"csrf_token": token, "subject": "social_worker", "answer": "yes", "how": "phone"},
        follow_redirects=False,
    )
    assert consent_page.status_code == 303
    recorded = client.get(f"/console/cases/{number}/referrals", headers=EN).text
    assert "By phone" in recorded and "Test analyst" in recorded  # how, and who

    login_as(Role.SUPERVISOR)
    token = csrf_from(client.get(f"/console/cases/{number}/referrals").text)
    sent = client.post(
        f"/console/referrals/{reference}/send", data={"csrf_token": token}, follow_redirects=False
    )
    assert sent.status_code == 303
    with app.state.reclaim.sessions() as session:
        mine = session.scalars(select(Referral).where(Referral.reference == reference)).one()
        assert mine.status is ReferralStatus.SENT
        assert mine.sent_shares == ["case", "contact"]
        assert session.scalars(
            select(ReferralDelivery).where(ReferralDelivery.referral_id == mine.id)
        ).all()
    held = client.post(
        f"/console/cases/{number}/hold",
        data={"csrf_token": token, "reason": "prosecutor's request"},
        follow_redirects=False,
    )
    assert held.status_code == 303
    assert "prosecutor&#39;s request" in client.get(f"/console/cases/{number}/referrals").text


def test_admins_keep_the_directory(app: FastAPI, client: TestClient, login_as: Login) -> None:
    login_as(Role.ADMIN)
    token = csrf_from(client.get("/console/agencies").text)
    bad = client.post(
        "/console/agencies", data={"csrf_token": token, "name": "No contact", "kind": "police"}
    )
    assert bad.status_code == 400
    created = client.post(
        "/console/agencies",
        data={
            "csrf_token": token,
            "name": "Taipei 113",
            "kind": "social_services",
            "email": "113@social.example.org",
            "language": "zh_TW",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    agency_url = created.headers["location"].split("?")[0]
    with app.state.reclaim.sessions() as session:
        worker = make_user(session, Role.SOCIAL_WORKER)
        session.commit()
        email = worker.email
    member = client.post(
        f"{agency_url}/members", data={"csrf_token": token, "email": email}, follow_redirects=False
    )
    assert member.status_code == 303
    assert email in client.get(agency_url).text


@pytest.mark.parametrize("role", [Role.ANALYST, Role.SUPERVISOR, Role.SOCIAL_WORKER])
def test_only_admins_reach_the_directory(client: TestClient, login_as: Login, role: Role) -> None:
    login_as(role)
    assert client.get("/console/agencies").status_code == 403


def test_the_evidence_key_is_published(app: FastAPI, client: TestClient) -> None:
    html = client.get("/console/evidence-key").text
    assert re.search(r"BEGIN PUBLIC KEY", html)


def test_the_dashboard_lists_referral_messages_that_need_a_person(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    _, reference = _refer(app, police_consent=True)
    with app.state.reclaim.sessions() as session:
        delivery = session.scalars(select(ReferralDelivery)).first()
        assert delivery is not None
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = "550 no such mailbox"
        session.commit()
    login_as(Role.SUPERVISOR)
    troubles = client.get("/console/takedown", headers=EN).text
    assert reference in troubles and "550 no such mailbox" in troubles
