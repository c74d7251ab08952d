"""The referral lifecycle: proposal when a decision makes it mandatory, consent applied
when sending (withdrawal honoured), the outbox, holds, answers, reminders, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.cases import holds
from reclaim.cases.domain import AgeGroup, Classification
from reclaim.cases.models import LegalHold
from reclaim.config import Settings
from reclaim.domain.states import IllegalTransitionError
from reclaim.referrals import consent, custody, referring, sharing
from reclaim.referrals.domain import (
    AgencyKind,
    ConsentHow,
    ConsentSubject,
    CustodyAction,
    ReferralPolicy,
    ReferralRefused,
    ReferralStatus,
    Share,
)
from reclaim.referrals.models import ReferralDelivery
from reclaim.security.field_crypto import field_cipher
from reclaim.takedown.domain import Channel, DeliveryPurpose
from tests.support.cases import make_case, make_user
from tests.support.clock import FakeClock
from tests.support.referrals import make_agency, sent_referral

POLICY = ReferralPolicy(mandatory_hours=24, reminder_hours=24, expiry_days=14)


def test_a_minors_decision_proposes_the_mandatory_referral_with_its_deadline(
    session: Session, clock: FakeClock
) -> None:
    agency = make_agency(session)
    case = make_case(session, urls=["https://example.org/p"], age=AgeGroup.UNDER_18)
    assert referring.propose_mandatory(session, case, POLICY, clock=clock) is None  # undecided
    case.items[0].classification = Classification.CSAM
    proposed = referring.propose_mandatory(session, case, POLICY, clock=clock)
    assert proposed is not None and proposed.mandatory
    assert proposed.status is ReferralStatus.DRAFT and proposed.agency_id == agency.id
    assert proposed.deadline_at == clock.now + timedelta(hours=24)
    assert referring.mandatory_due(session) == [proposed]
    # Proposed once, however many decisions follow.
    assert referring.propose_mandatory(session, case, POLICY, clock=clock) is None


def test_an_adults_case_goes_nowhere_without_consent(session: Session) -> None:
    police = make_agency(session, "Police unit", AgencyKind.POLICE)
    case = make_case(session, urls=["https://example.org/a"])
    sender = make_user(session, Role.SUPERVISOR)
    referral = referring.draft(session, case, police, [], actor=audit.SYSTEM, created_by_id=None)
    with pytest.raises(ReferralRefused) as refused:
        referring.send(session, referral, POLICY, sender_id=sender.id, secret=b"s")
    assert refused.value.code == "no_consent"
    assert referral.status is ReferralStatus.DRAFT


def test_a_withdrawal_before_sending_is_honoured(session: Session, clock: FakeClock) -> None:
    police = make_agency(session, "Police unit", AgencyKind.POLICE)
    case = make_case(session, urls=["https://example.org/m"], age=AgeGroup.UNDER_18)
    analyst = make_user(session)
    sender = make_user(session, Role.SUPERVISOR)
    consent.record_consent(
        session,
        case,
        ConsentSubject.POLICE,
        granted=True,
        how=ConsentHow.PHONE,
        actor=audit.Actor.user(analyst.id),
        recorded_by_id=analyst.id,
        clock=clock,
    )
    referral = referring.draft(
        session, case, police, [Share.CONTACT, Share.WORDS], actor=audit.SYSTEM, created_by_id=None
    )
    consent.record_consent(
        session,
        case,
        ConsentSubject.POLICE,
        granted=False,
        how=ConsentHow.PORTAL,
        actor=audit.Actor.reporter(case.id),
        clock=clock,
    )
    referring.send(session, referral, POLICY, sender_id=sender.id, secret=b"s", clock=clock)
    # A minor's case still goes (the duty to report), without the reporter's contact or words.
    assert referral.sent_shares == [Share.CASE.value]
    assert referral.status is ReferralStatus.SENT


def test_sending_queues_the_outbox_holds_the_case_and_logs_custody(
    session: Session, clock: FakeClock
) -> None:
    police = make_agency(
        session, "Police unit", AgencyKind.POLICE, webhook_url="https://police.example.org/hook"
    )
    case = make_case(session, urls=["https://example.org/x"], age=AgeGroup.UNDER_18)
    sender = make_user(session, Role.SUPERVISOR)
    referral = sent_referral(session, case, police, sender, policy=POLICY)
    deliveries = session.scalars(
        select(ReferralDelivery).where(ReferralDelivery.referral_id == referral.id)
    ).all()
    assert sorted(d.channel for d in deliveries) == [Channel.EMAIL, Channel.WEBHOOK]
    assert holds.active_hold(session, case.id) is not None  # police: a legal hold
    kept = session.scalars(select(LegalHold).where(LegalHold.until.is_not(None))).all()
    assert len(kept) == 1  # and the legal retention
    (entry,) = custody.log(session, case.id)
    assert entry.action is CustodyAction.TRANSFERRED
    with pytest.raises(ReferralRefused):
        referring.send(session, referral, POLICY, sender_id=sender.id, secret=b"s")


def test_social_services_get_no_legal_hold(session: Session) -> None:
    agency = make_agency(session)
    case = make_case(session, age=AgeGroup.UNDER_18)
    sent_referral(session, case, agency, make_user(session, Role.SUPERVISOR))
    assert holds.active_hold(session, case.id) is None


def test_answers_follow_the_state_machine_and_reach_custody(session: Session) -> None:
    agency = make_agency(session)
    case = make_case(session, age=AgeGroup.UNDER_18)
    referral = sent_referral(session, case, agency, make_user(session, Role.SUPERVISOR))
    member = audit.Actor.user(make_user(session, Role.SOCIAL_WORKER).id)
    referring.answer(session, referral, ReferralStatus.ACKNOWLEDGED, actor=member, who="user")
    referring.answer(
        session,
        referral,
        ReferralStatus.ACCEPTED,
        actor=member,
        who="user",
        outcome="will_contact",
        text="A social worker calls tomorrow.",
    )
    assert referral.outcome == "will_contact"
    with pytest.raises(IllegalTransitionError):
        referring.answer(session, referral, ReferralStatus.DECLINED, actor=member, who="user")
    with pytest.raises(ReferralRefused):
        referring.answer(
            session, referral, ReferralStatus.CLOSED, actor=member, who="u", outcome="made-up"
        )
    actions = [e.action for e in custody.log(session, case.id)]
    assert actions == [CustodyAction.TRANSFERRED, CustodyAction.ACKNOWLEDGED, CustodyAction.OUTCOME]


def test_reminders_then_expiry(session: Session, clock: FakeClock) -> None:
    agency = make_agency(session)
    case = make_case(session, age=AgeGroup.UNDER_18)
    sender = make_user(session, Role.SUPERVISOR)
    referral = referring.draft(session, case, agency, [], actor=audit.SYSTEM, created_by_id=None)
    referring.send(session, referral, POLICY, sender_id=sender.id, secret=b"s", clock=clock)
    assert referring.follow_up(session, POLICY, clock=clock) == {"reminded": 0, "expired": 0}
    clock.advance(hours=25)
    assert referring.follow_up(session, POLICY, clock=clock) == {"reminded": 1, "expired": 0}
    reminders = session.scalars(
        select(ReferralDelivery).where(ReferralDelivery.purpose == DeliveryPurpose.REMINDER)
    ).all()
    assert len(reminders) == 1
    clock.advance(days=14)
    assert referring.follow_up(session, POLICY, clock=clock)["expired"] == 1
    assert referral.status is ReferralStatus.EXPIRED


def test_decisions_are_shared_only_when_the_referral_carries_them(
    session: Session, settings: Settings
) -> None:
    agency = make_agency(session)
    case = make_case(session, urls=["https://example.org/d"], age=AgeGroup.UNDER_18)
    case.items[0].classification = Classification.CSAM
    sender = make_user(session, Role.SUPERVISOR)
    cipher = field_cipher(settings)
    without = sent_referral(session, case, agency, sender, shares=[])
    shared = sharing.shared_case(session, without, cipher=cipher)
    assert "decisions" not in shared and shared["items"][0]["classification"] is None
    with_decisions = sent_referral(session, case, agency, sender, shares=[Share.DECISIONS])
    shared = sharing.shared_case(session, with_decisions, cipher=cipher)
    assert shared["items"][0]["classification"] == "csam" and "decisions" in shared
