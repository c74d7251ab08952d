"""A case's status, moved only here: checked against the state machine and audited.

Staff move cases on the case page, reporters move them by adding or withdrawing items,
and the system moves them as the work proceeds; all of them call :func:`move`, so every
change is legal (``CASE_MACHINE``) and lands in the audit trail with who and why.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases.domain import CASE_MACHINE, CaseStatus
from reclaim.cases.models import Case
from reclaim.domain.clock import Clock, system_clock


def can_move(case: Case, requested: CaseStatus) -> bool:
    return CASE_MACHINE.allows(case.status, requested)


def move(
    session: Session,
    case: Case,
    requested: CaseStatus,
    *,
    actor: audit.Actor,
    why: str | None = None,
    clock: Clock = system_clock,
) -> CaseStatus:
    """Move the case; IllegalTransitionError if the machine does not allow it."""
    previous = case.status
    case.status = CASE_MACHINE.check(previous, requested)
    case.updated_at = clock()
    details = {"from": previous.value, "to": requested.value}
    if why:
        details["why"] = why
    audit.record(
        session,
        AuditTag.CASE_STATUS_CHANGED,
        actor=actor,
        target=(TargetKind.CASE, case.id),
        details=details,
        clock=clock,
    )
    return previous
