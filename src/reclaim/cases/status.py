"""A case's status, moved only here: checked against the state machine and audited.

The status follows the work: a case is *new* until someone at the hotline works on it,
*in review* while any of its items waits for a decision, *decided* ("actioned") when
every item is decided and notices are still to go (removal notices, or an account
notice about an offender's profile), *awaiting removal* once
notices went out, and *resolved* when every decided picture is gone (or nothing needed
removing).  :func:`follow_work` sets the first of these from the case's items; the
takedown feature moves cases on to awaiting removal and resolved as notices go out and
checks find content gone.  Staff may still move a case by hand.  Every change goes
through :func:`move`, so it is legal (``CASE_MACHINE``) and lands in the audit trail with
who and why.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind, AuditTag, TargetKind
from reclaim.cases.domain import CASE_MACHINE, CaseStatus, Classification
from reclaim.cases.models import Case
from reclaim.domain.clock import Clock, system_clock

#: Statuses the hotline's own work decides; later ones follow the platforms'.
_HOTLINE_STATUSES = frozenset(
    {CaseStatus.NEW, CaseStatus.IN_REVIEW, CaseStatus.ACTIONED, CaseStatus.NOT_ACTIONABLE}
)


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


def move_towards(
    session: Session,
    case: Case,
    target: CaseStatus,
    *,
    actor: audit.Actor,
    why: str,
    clock: Clock = system_clock,
) -> bool:
    """Move the case to ``target`` through the fewest legal steps (each audited);
    False if the machine offers no way there."""
    path = _path(case.status, target)
    if path is None:
        return False
    for step in path:
        move(session, case, step, actor=actor, why=why, clock=clock)
    return True


def follow_work(
    session: Session, case: Case, *, actor: audit.Actor, clock: Clock = system_clock
) -> None:
    """Set the status the case's items call for, as far as the hotline's own work goes:
    someone working on it makes a new case *in review*; every item decided makes it
    *decided* (or *resolved* when nothing needs removing, *not actionable* when nothing
    is).  A case already awaiting removal stays so unless new work arrives."""
    live = [item for item in case.items if item.withdrawn_at is None]
    if not live:
        return
    open_items = [i for i in live if i.classification is None or not i.classification.is_final]
    if open_items:
        if case.status is CaseStatus.NEW and actor.type is not ActorKind.USER:
            return  # nobody at the hotline has looked yet
        target = CaseStatus.IN_REVIEW
        why = "items wait for a decision"
    elif all(i.classification is Classification.NOT_ACTIONABLE for i in live):
        target, why = CaseStatus.NOT_ACTIONABLE, "every item was decided not actionable"
    elif any(i.url and i.classification and i.classification.calls_for_notice for i in live):
        if case.status not in _HOTLINE_STATUSES:
            return  # notices are out: the takedown's checks move it on
        target, why = CaseStatus.ACTIONED, "every item is decided; notices are to go"
    else:
        target, why = CaseStatus.RESOLVED, "every item is decided; nothing needs removing"
    if case.status is not target:
        move_towards(session, case, target, actor=actor, why=why, clock=clock)


def _path(current: CaseStatus, target: CaseStatus) -> list[CaseStatus] | None:
    """The shortest list of moves from ``current`` to ``target`` (breadth first)."""
    if current is target:
        return []
    came_from: dict[CaseStatus, CaseStatus] = {}
    frontier = [current]
    while frontier:
        following = []
        for state in frontier:
            for step in sorted(CASE_MACHINE.transitions[state], key=list(CaseStatus).index):
                if step in came_from or step is current:
                    continue
                came_from[step] = state
                if step is target:
                    path = [step]
                    while came_from[path[0]] is not current:
                        path.insert(0, came_from[path[0]])
                    return path
                following.append(step)
        frontier = following
    return None
