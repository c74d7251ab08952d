"""The reporter's say over referrals on their case page: two plain questions, answers
recorded as consent (a "no" after a "yes" is a withdrawal), and who was told what."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.models import Case
from reclaim.config import Settings
from reclaim.referrals import consent, referring
from reclaim.referrals.domain import ConsentHow, ConsentSubject, ReferralStatus, Share
from reclaim.referrals.models import Consent
from tests.support.cases import make_user
from tests.support.portal import open_case, portal_settings, sessions, submit
from tests.support.referrals import make_agency
from tests.web.conftest import csrf_from

EN = {"accept-language": "en"}


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    return portal_settings(tmp_path, database_url)


def _answer(client: TestClient, **answers: str) -> None:
    csrf = csrf_from(client.get("/case/status").text)
    response = client.post(
        "/case/consent", data={"csrf_token": csrf, **answers}, follow_redirects=False
    )
    assert response.status_code == 303


def test_the_reporter_answers_and_can_withdraw(app: FastAPI, client: TestClient) -> None:
    number, pin = submit(client)
    open_case(client, number, pin)
    page = client.get("/case/status", headers=EN).text
    assert "Can a social worker contact you?" in page
    _answer(client, social_worker="yes", police="no")
    _answer(client, social_worker="yes", police="no")  # unchanged: nothing new recorded
    _answer(client, social_worker="no")  # withdrawn
    with sessions(app) as session:
        case = session.scalars(select(Case).where(Case.number == number)).one()
        rows = session.scalars(select(Consent).where(Consent.case_id == case.id)).all()
        assert [(r.subject, r.granted, r.how) for r in rows] == [
            (ConsentSubject.SOCIAL_WORKER, True, ConsentHow.PORTAL),
            (ConsentSubject.POLICE, False, ConsentHow.PORTAL),
            (ConsentSubject.SOCIAL_WORKER, False, ConsentHow.PORTAL),
        ]
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.CONSENT_RECORDED.value)
        ).all()
        assert {e.actor_type.value for e in events} == {"reporter"}


def test_the_page_shows_who_was_told_and_the_outcome_in_plain_words(
    app: FastAPI, client: TestClient
) -> None:
    number, pin = submit(client)
    with sessions(app) as session:
        case = session.scalars(select(Case).where(Case.number == number)).one()
        consent.record_consent(
            session,
            case,
            ConsentSubject.SOCIAL_WORKER,
            granted=True,
            how=ConsentHow.PHONE,
            actor=audit.SYSTEM,
        )
        agency = make_agency(session, "Taipei City Social Welfare Department")
        sender = make_user(session, Role.SUPERVISOR)
        referral = referring.draft(
            session, case, agency, [Share.CONTACT], actor=audit.SYSTEM, created_by_id=None
        )
        referring.send(
            session,
            referral,
            referring.policy_of(app.state.reclaim.settings),
            sender_id=sender.id,
            secret=b"s",
        )
        referring.answer(
            session,
            referral,
            ReferralStatus.ACCEPTED,
            actor=audit.SYSTEM,
            who="agency",
            outcome="will_contact",
        )
        session.commit()
    open_case(client, number, pin)
    page = client.get("/case/status", headers=EN).text
    assert "Child protection services: Taipei City Social Welfare Department" in page
    assert "They have your contact, not your own words." in page
    assert "A social worker from Taipei will contact you." in page
    assert sender.display_name not in page  # never a person's name
