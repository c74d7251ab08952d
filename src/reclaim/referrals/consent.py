"""The reporter's consent: asked on the portal, or recorded by an analyst (who, when,
how).  The newest answer to each question counts; a "no" after a "yes" is a
withdrawal, honoured for whatever has not yet been sent (``referring.send``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases.models import Case
from reclaim.domain.clock import Clock, system_clock
from reclaim.referrals.domain import ConsentHow, ConsentState, ConsentSubject
from reclaim.referrals.models import Consent


def record_consent(
    session: Session,
    case: Case,
    subject: ConsentSubject,
    *,
    granted: bool,
    how: ConsentHow,
    actor: audit.Actor,
    recorded_by_id: int | None = None,
    clock: Clock = system_clock,
) -> Consent:
    """One answer; audited CONSENT_RECORDED (by the reporter or the analyst)."""
    consent = Consent(
        case_id=case.id,
        subject=subject,
        granted=granted,
        how=how,
        recorded_by_id=recorded_by_id,
        recorded_at=clock(),
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        AuditTag.CONSENT_RECORDED,
        actor=actor,
        target=(TargetKind.CASE, case.id),
        details={"subject": subject.value, "granted": granted, "how": how.value},
        clock=clock,
    )
    return consent


def history(session: Session, case_id: int) -> list[Consent]:
    return list(
        session.scalars(select(Consent).where(Consent.case_id == case_id).order_by(Consent.id))
    )


def current(session: Session, case_id: int) -> ConsentState:
    answers: dict[ConsentSubject, bool] = {}
    for consent in history(session, case_id):
        answers[consent.subject] = consent.granted  # the newest wins
    return ConsentState(
        social_worker=answers.get(ConsentSubject.SOCIAL_WORKER),
        police=answers.get(ConsentSubject.POLICE),
    )
