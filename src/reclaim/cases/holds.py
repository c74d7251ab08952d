"""Legal holds: a case's evidence kept past its retention period until released.

A supervisor sets one with a reason, or referring a case to police or a prosecutor
sets one automatically (``referrals.referring``).  The retention purge
(``cases.retention``) never deletes what a held case fetched; releasing the hold (with
a reason) lets the next purge run delete what is past its expiry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases.models import Case, Item, LegalHold
from reclaim.domain.clock import Clock, system_clock


class HoldError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _in_force(now: datetime) -> ColumnElement[bool]:
    return LegalHold.released_at.is_(None) & (LegalHold.until.is_(None) | (LegalHold.until > now))


def active_hold(session: Session, case_id: int) -> LegalHold | None:
    """The case's legal hold (released by a person), if any."""
    return session.scalar(
        select(LegalHold).where(
            LegalHold.case_id == case_id,
            LegalHold.released_at.is_(None),
            LegalHold.until.is_(None),
        )
    )


def keep_until(
    session: Session,
    case: Case,
    until: datetime,
    reason: str,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> LegalHold:
    """A retention hold that ends by itself (a referral keeps evidence 180 days)."""
    hold = LegalHold(case_id=case.id, reason=reason[:2000], set_at=clock(), until=until)
    session.add(hold)
    session.flush()
    audit.record(
        session,
        AuditTag.LEGAL_HOLD_SET,
        actor=actor,
        target=(TargetKind.CASE, case.id),
        details={"hold": hold.id, "until": until.isoformat(), "reason": hold.reason},
        clock=clock,
    )
    return hold


def holds(session: Session, case_id: int) -> list[LegalHold]:
    return list(
        session.scalars(
            select(LegalHold).where(LegalHold.case_id == case_id).order_by(LegalHold.id)
        )
    )


def set_hold(
    session: Session,
    case: Case,
    reason: str,
    *,
    actor: audit.Actor,
    set_by_id: int | None = None,
    clock: Clock = system_clock,
) -> LegalHold:
    """Hold the case (a second hold while one is active is the same hold)."""
    reason = reason.strip()
    if not reason:
        raise HoldError("reason_required", "a legal hold needs a reason")
    existing = active_hold(session, case.id)
    if existing is not None:
        return existing
    hold = LegalHold(case_id=case.id, reason=reason[:2000], set_by_id=set_by_id, set_at=clock())
    session.add(hold)
    session.flush()
    audit.record(
        session,
        AuditTag.LEGAL_HOLD_SET,
        actor=actor,
        target=(TargetKind.CASE, case.id),
        details={"hold": hold.id, "reason": hold.reason},
        clock=clock,
    )
    return hold


def release_hold(
    session: Session,
    case: Case,
    reason: str,
    *,
    actor: audit.Actor,
    released_by_id: int | None = None,
    clock: Clock = system_clock,
) -> LegalHold:
    reason = reason.strip()
    if not reason:
        raise HoldError("reason_required", "releasing a legal hold needs a reason")
    hold = active_hold(session, case.id)
    if hold is None:
        raise HoldError("not_held", "the case has no legal hold")
    hold.released_at = clock()
    hold.released_by_id = released_by_id
    hold.release_reason = reason[:2000]
    audit.record(
        session,
        AuditTag.LEGAL_HOLD_RELEASED,
        actor=actor,
        target=(TargetKind.CASE, case.id),
        details={"hold": hold.id, "reason": hold.release_reason},
        clock=clock,
    )
    return hold


def held_item_ids(session: Session, now: datetime) -> set[int]:
    """Items of every case under a hold in force (the purge skips their media)."""
    held_cases = select(LegalHold.case_id).where(_in_force(now))
    return set(session.scalars(select(Item.id).where(Item.case_id.in_(held_cases))))
