"""Undoing a wrong link: a supervisor says two cases are not linked, or a case does not
name an identifier (a handle misread from a description, a shared picture that is a
meme).  The link goes from both case pages and from the cluster (which may split), the
audit trail keeps who said so and why, and linking never makes that link again
(``rejected_others`` and ``rejected_identifiers`` are read by ``linking`` and
``identifiers``).
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases.models import Case
from reclaim.domain.clock import Clock, system_clock
from reclaim.linkage import clusters
from reclaim.linkage.domain import LinkReason
from reclaim.linkage.models import CaseIdentifier, CaseLink, LinkRejection

MAX_REASON = 2000


class CorrectionError(ValueError):
    """The link cannot be marked wrong as asked; ``code`` names why (for the page)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason:
        raise CorrectionError("no_reason", "say why the link is wrong")
    if len(reason) > MAX_REASON:
        raise CorrectionError("too_long", f"at most {MAX_REASON} characters")
    return reason


def reject_link(
    session: Session,
    case: Case,
    other: Case,
    reason: str,
    *,
    actor_id: int,
    clock: Clock = system_clock,
) -> int:
    """Two cases are not linked: every link between them goes; how many went."""
    why = _reason(reason)
    first, second = sorted((case.id, other.id))
    links = session.scalars(
        select(CaseLink).where(CaseLink.case_id == first, CaseLink.other_case_id == second)
    ).all()
    if not links:
        raise CorrectionError("not_linked", "these cases are not linked")
    reasons = sorted({LinkReason(link.reason).value for link in links})
    session.execute(
        delete(CaseLink).where(CaseLink.case_id == first, CaseLink.other_case_id == second)
    )
    now = clock()
    session.add(
        LinkRejection(
            case_id=case.id,
            other_case_id=other.id,
            reason=why,
            rejected_by_id=actor_id,
            created_at=now,
        )
    )
    _rebuild(session, case.id)
    for one, two in ((case, other), (other, case)):
        audit.record(
            session,
            AuditTag.LINK_REJECTED,
            actor=audit.Actor.user(actor_id),
            target=(TargetKind.CASE, one.id),
            details={
                "other_case": two.number,
                "links": len(links),
                "reasons": reasons,
                "reason": why,
            },
            clock=clock,
        )
    session.flush()
    return len(links)


def reject_identifier(
    session: Session,
    case: Case,
    identifier_id: int,
    reason: str,
    *,
    actor_id: int,
    clock: Clock = system_clock,
) -> int:
    """A case does not name an identifier: it leaves the case, with the links it made
    (same identifier, or a threat message alike to it); how many links went."""
    why = _reason(reason)
    named = session.scalars(
        select(CaseIdentifier.id).where(
            CaseIdentifier.case_id == case.id, CaseIdentifier.identifier_id == identifier_id
        )
    ).all()
    if not named:
        raise CorrectionError("not_named", "the case does not name this identifier")
    session.execute(delete(CaseIdentifier).where(CaseIdentifier.id.in_(named)))
    mine = or_(CaseLink.case_id == case.id, CaseLink.other_case_id == case.id)
    same = (CaseLink.reason == LinkReason.IDENTIFIER) & (
        CaseLink.shared == f"identifier:{identifier_id}"
    )
    alike = (CaseLink.reason == LinkReason.THREAT_SCRIPT) & (
        CaseLink.shared.startswith(f"script:{identifier_id}:")
        | CaseLink.shared.endswith(f":{identifier_id}")
    )
    made = or_(same, alike)
    gone = session.scalars(select(CaseLink.id).where(mine, made)).all()
    if gone:
        session.execute(delete(CaseLink).where(CaseLink.id.in_(gone)))
    now = clock()
    session.add(
        LinkRejection(
            case_id=case.id,
            identifier_id=identifier_id,
            reason=why,
            rejected_by_id=actor_id,
            created_at=now,
        )
    )
    _rebuild(session, case.id)
    audit.record(
        session,
        AuditTag.LINK_REJECTED,
        actor=audit.Actor.user(actor_id),
        target=(TargetKind.CASE, case.id),
        details={"identifier": identifier_id, "links": len(gone), "reason": why},
        clock=clock,
    )
    session.flush()
    return len(gone)


def _rebuild(session: Session, case_id: int) -> None:
    cluster_id = clusters.cluster_id_of(session, case_id)
    if cluster_id is not None:
        session.flush()
        clusters.rebuild(session, cluster_id)


def rejected_others(session: Session, case_id: int) -> set[int]:
    """The cases a supervisor said ``case_id`` is not linked to (either way round)."""
    rows = session.execute(
        select(LinkRejection.case_id, LinkRejection.other_case_id).where(
            LinkRejection.other_case_id.is_not(None),
            or_(LinkRejection.case_id == case_id, LinkRejection.other_case_id == case_id),
        )
    )
    return {b if a == case_id else a for a, b in rows if a is not None and b is not None}


def rejected_identifiers(session: Session, case_id: int) -> set[int]:
    """The identifiers a supervisor said ``case_id`` does not name."""
    return {
        i
        for i in session.scalars(
            select(LinkRejection.identifier_id).where(
                LinkRejection.case_id == case_id, LinkRejection.identifier_id.is_not(None)
            )
        )
        if i is not None
    }
