"""Making, sending and following referrals (the lifecycle in ``domain.REFERRAL_MACHINE``).

* A decision that makes a referral mandatory (a minor's sexual images, CYSEPA art. 7)
  proposes one automatically: a draft to a social services agency with the legal
  deadline (``propose_mandatory``).
* Staff draft referrals; a supervisor sends one (``send``): consent is applied at that
  moment (so a withdrawal before sending is honoured), the outbox gets one delivery
  per channel in the same transaction, the custody log records the transfer, the
  case's evidence is kept for the referral's retention period, and a referral to
  police or a prosecutor puts a legal hold on the case.
* The agency answers (``answer``): acknowledged, accepted, declined, an outcome.
* Reminders and expiry (``follow_up``) run on the schedule.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases import holds
from reclaim.cases.domain import AgeGroup
from reclaim.cases.models import Case, Item, Report
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.referrals import consent as consents
from reclaim.referrals import custody
from reclaim.referrals.domain import (
    AWAITING_AGENCY,
    REFERRAL_MACHINE,
    AgencyKind,
    CustodyAction,
    ReferralPolicy,
    ReferralRefused,
    ReferralStatus,
    Share,
    allowed_shares,
)
from reclaim.referrals.models import Agency, Referral, ReferralDelivery
from reclaim.referrals.tokens import answer_token, token_hash
from reclaim.takedown.domain import Channel, DeliveryPurpose, DeliveryStatus

#: What the agency can report back, in plain words for the reporter (portal catalog).
OUTCOMES = ("will_contact", "investigating", "support_given", "no_action")


def policy_of(settings: Settings) -> ReferralPolicy:
    return ReferralPolicy(
        mandatory_hours=settings.referral_mandatory_hours,
        reminder_hours=settings.referral_reminder_hours,
        expiry_days=settings.referral_expiry_days,
        retention_days=settings.referred_retention_days,
    )


def move(
    session: Session,
    referral: Referral,
    status: ReferralStatus,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
    **details: object,
) -> None:
    """The one way a referral's status changes: checked and audited."""
    previous = referral.status
    referral.status = REFERRAL_MACHINE.check(previous, status)
    audit.record(
        session,
        AuditTag.REFERRAL_CHANGED,
        actor=actor,
        target=(TargetKind.REFERRAL, referral.id),
        details={"case": referral.case_id, "from": previous.value, "to": status.value, **details},
        clock=clock,
    )


def is_minor_case(session: Session, case: Case) -> bool:
    ages = session.scalars(select(Report.age_group).where(Report.case_id == case.id))
    classified = session.scalars(select(Item.classification).where(Item.case_id == case.id))
    return any(age is AgeGroup.UNDER_18 for age in ages) or any(
        c is not None and c.involves_minor for c in classified
    )


def mandatory(session: Session, case: Case) -> bool:
    """Whether the decisions in force make reporting to the authorities a duty: a
    minor's sexual images to be removed (CYSEPA art. 7, 24 hours)."""
    classified = session.scalars(select(Item.classification).where(Item.case_id == case.id))
    return any(c is not None and c.involves_minor and c.calls_for_removal for c in classified)


def for_case(session: Session, case_id: int) -> list[Referral]:
    return list(
        session.scalars(select(Referral).where(Referral.case_id == case_id).order_by(Referral.id))
    )


def propose_mandatory(
    session: Session, case: Case, policy: ReferralPolicy, *, clock: Clock = system_clock
) -> Referral | None:
    """After a decision: a draft to social services with the legal deadline, unless the
    case already has a live mandatory referral (or no social services agency exists)."""
    if not mandatory(session, case):
        return None
    live = [r for r in for_case(session, case.id) if r.mandatory]
    if any(r.status is not ReferralStatus.CANCELLED for r in live):
        return None
    agency = session.scalar(
        select(Agency).where(Agency.kind == AgencyKind.SOCIAL_SERVICES).order_by(Agency.id)
    )
    if agency is None:
        return None
    now = clock()
    return draft(
        session,
        case,
        agency,
        [Share.CONTACT, Share.WORDS],
        actor=audit.SYSTEM,
        created_by_id=None,
        mandatory=True,
        deadline_at=policy.deadline(now),
        clock=clock,
    )


def draft(
    session: Session,
    case: Case,
    agency: Agency,
    shares: Iterable[Share],
    *,
    actor: audit.Actor,
    created_by_id: int | None,
    mandatory: bool = False,
    deadline_at: object = None,
    clock: Clock = system_clock,
) -> Referral:
    now = clock()
    referral = Referral(
        reference=f"RF-{now:%y%m}-{secrets.token_hex(3).upper()}",
        case_id=case.id,
        agency_id=agency.id,
        status=ReferralStatus.DRAFT,
        mandatory=mandatory,
        shares=sorted({Share.CASE.value, *(Share(s).value for s in shares)}),
        deadline_at=deadline_at,
        created_by_id=created_by_id,
        created_at=now,
    )
    session.add(referral)
    session.flush()
    audit.record(
        session,
        AuditTag.REFERRAL_CHANGED,
        actor=actor,
        target=(TargetKind.REFERRAL, referral.id),
        details={
            "case": case.id,
            "to": ReferralStatus.DRAFT.value,
            "agency": agency.id,
            "mandatory": mandatory,
            "shares": referral.shares,
        },
        clock=clock,
    )
    return referral


def send(
    session: Session,
    referral: Referral,
    policy: ReferralPolicy,
    *,
    sender_id: int,
    secret: bytes,
    clock: Clock = system_clock,
) -> str:
    """Queue the referral for the agency; returns the one-time answer token (for the
    email's link; only its hash is kept)."""
    if referral.status is not ReferralStatus.DRAFT:
        raise ReferralRefused("not_a_draft", "only a draft can be sent")
    agency = referral.agency
    if not agency.email and not agency.webhook_url:
        raise ReferralRefused("no_channel", "the agency has no email or webhook")
    state = consents.current(session, referral.case_id)
    minor = is_minor_case(session, referral.case)
    went = allowed_shares(
        (Share(s) for s in referral.shares), kind=agency.kind, consent=state, minor=minor
    )
    now = clock()
    referral.sent_shares = sorted(s.value for s in went)
    referral.sent_by_id = sender_id
    referral.sent_at = now
    referral.expires_at = policy.expires(now)
    referral.next_reminder_at = policy.next_reminder(now)
    token = answer_token(secret, referral)
    referral.answer_token_hash = token_hash(token)
    move(
        session,
        referral,
        ReferralStatus.SENT,
        actor=audit.Actor.user(sender_id),
        clock=clock,
        shares=referral.sent_shares,
    )
    _queue(session, referral, DeliveryPurpose.NOTICE, now)
    custody.append(
        session,
        referral.case_id,
        CustodyAction.TRANSFERRED,
        actor=f"user {sender_id}",
        referral_id=referral.id,
        details={"agency": agency.name, "shares": referral.sent_shares},
        clock=clock,
    )
    holds.keep_until(
        session,
        referral.case,
        policy.keep_until(now),
        f"referred to {agency.name} ({referral.reference}): legal retention",
        actor=audit.SYSTEM,
        clock=clock,
    )
    if agency.kind.investigates:
        holds.set_hold(
            session,
            referral.case,
            f"referred to {agency.name} ({referral.reference})",
            actor=audit.SYSTEM,
            clock=clock,
        )
    return token


def _queue(session: Session, referral: Referral, purpose: DeliveryPurpose, now: object) -> None:
    agency = referral.agency
    channels = [Channel.EMAIL] if agency.email else []
    channels += [Channel.WEBHOOK] if agency.webhook_url else []
    for channel in channels:
        session.add(
            ReferralDelivery(
                referral_id=referral.id,
                purpose=purpose,
                channel=channel,
                idempotency_key=uuid.uuid4().hex,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()


def cancel(
    session: Session, referral: Referral, *, actor: audit.Actor, clock: Clock = system_clock
) -> None:
    move(session, referral, ReferralStatus.CANCELLED, actor=actor, clock=clock)


def by_token(session: Session, token: str) -> Referral | None:
    if not token or len(token) > 128:
        return None
    return session.scalar(select(Referral).where(Referral.answer_token_hash == token_hash(token)))


def answer(
    session: Session,
    referral: Referral,
    status: ReferralStatus,
    *,
    actor: audit.Actor,
    who: str,
    outcome: str | None = None,
    text: str = "",
    clock: Clock = system_clock,
) -> None:
    """The agency's answer: acknowledged, accepted, declined, or closed with an outcome.

    Recorded on the referral, the custody log and the audit trail."""
    if outcome is not None and outcome not in OUTCOMES:
        raise ReferralRefused("bad_outcome", f"outcome must be one of {', '.join(OUTCOMES)}")
    now = clock()
    if status is ReferralStatus.ACKNOWLEDGED:
        referral.acknowledged_at = now
    elif status is ReferralStatus.CLOSED:
        referral.closed_at = now
    else:
        referral.answered_at = now
    move(session, referral, status, actor=actor, clock=clock, outcome=outcome)
    if outcome is not None:
        referral.outcome = outcome
    if text.strip():
        referral.outcome_text = text.strip()[:4000]
    if status is not ReferralStatus.ACKNOWLEDGED:
        referral.next_reminder_at = None
    action = (
        CustodyAction.ACKNOWLEDGED
        if status is ReferralStatus.ACKNOWLEDGED
        else CustodyAction.OUTCOME
    )
    custody.append(
        session,
        referral.case_id,
        action,
        actor=who,
        referral_id=referral.id,
        details={"status": status.value, "outcome": outcome},
        clock=clock,
    )
    audit.record(
        session,
        AuditTag.REFERRAL_ANSWERED,
        actor=actor,
        target=(TargetKind.REFERRAL, referral.id),
        details={"case": referral.case_id, "status": status.value, "outcome": outcome},
        clock=clock,
    )


def follow_up(
    session: Session, policy: ReferralPolicy, *, clock: Clock = system_clock
) -> dict[str, int]:
    """Queue reminders to agencies that have not answered; expire what is past expiry."""
    now = clock()
    # Locked, as notices' reminders are: a concurrent run waits, then sees the new state.
    waiting = session.scalars(
        select(Referral)
        .where(Referral.status.in_([s.value for s in AWAITING_AGENCY]))
        .with_for_update(of=Referral)
    ).all()
    reminded = expired = 0
    for referral in waiting:
        if referral.expires_at is not None and referral.expires_at <= now:
            move(session, referral, ReferralStatus.EXPIRED, actor=audit.SYSTEM, clock=clock)
            referral.next_reminder_at = None
            expired += 1
        elif referral.next_reminder_at is not None and referral.next_reminder_at <= now:
            referral.reminders_sent += 1
            referral.next_reminder_at = policy.next_reminder(now)
            _queue(session, referral, DeliveryPurpose.REMINDER, now)
            reminded += 1
    return {"reminded": reminded, "expired": expired}


def mandatory_due(session: Session) -> list[Referral]:
    """Mandatory referrals not yet sent, soonest deadline first (the dashboard)."""
    return list(
        session.scalars(
            select(Referral)
            .where(Referral.mandatory.is_(True), Referral.status == ReferralStatus.DRAFT)
            .order_by(Referral.deadline_at)
        )
    )


def troubled_deliveries(session: Session) -> list[ReferralDelivery]:
    """Referral messages a person must look at (failed, or unconfirmed after a crash)."""
    return list(
        session.scalars(
            select(ReferralDelivery)
            .where(ReferralDelivery.status.in_([s for s in DeliveryStatus if s.needs_a_person]))
            .order_by(ReferralDelivery.id)
        )
    )
