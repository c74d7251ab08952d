"""Access follows referrals: agency staff (social workers, police liaisons) see only
the cases referred to their own agency, only once sent, and only what was shared
(``sharing``); every look is audited (REFERRAL_VIEWED)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.domain.clock import Clock, system_clock
from reclaim.referrals.domain import DELIVERED
from reclaim.referrals.models import AgencyMember, Referral


def _agency_id(session: Session, user_id: int) -> int | None:
    membership = session.get(AgencyMember, user_id)
    return membership.agency_id if membership else None


def referrals_for_member(session: Session, user_id: int) -> list[Referral]:
    """What the member's agency received, newest first (nothing without an agency)."""
    agency_id = _agency_id(session, user_id)
    if agency_id is None:
        return []
    return list(
        session.scalars(
            select(Referral)
            .where(
                Referral.agency_id == agency_id,
                Referral.status.in_([s.value for s in DELIVERED]),
            )
            .order_by(Referral.sent_at.desc(), Referral.id.desc())
        )
    )


def referral_for_member(session: Session, user_id: int, reference: str) -> Referral | None:
    """The referral, if it went to this member's agency (else None: the page is 404,
    the same as a referral that does not exist)."""
    agency_id = _agency_id(session, user_id)
    if agency_id is None or len(reference) > 20:
        return None
    referral = session.scalar(select(Referral).where(Referral.reference == reference))
    if referral is None or referral.agency_id != agency_id or referral.status not in DELIVERED:
        return None
    return referral


def record_view(
    session: Session,
    referral: Referral,
    *,
    viewer_id: int,
    what: str = "page",
    clock: Clock = system_clock,
) -> None:
    audit.record(
        session,
        AuditTag.REFERRAL_VIEWED,
        actor=audit.Actor.user(viewer_id),
        target=(TargetKind.REFERRAL, referral.id),
        details={"case": referral.case_id, "what": what},
        clock=clock,
    )
