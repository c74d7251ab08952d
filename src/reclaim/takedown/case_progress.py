"""Cases follow their notices: awaiting removal once a notice about their pages went
out, resolved when every page that needed removing is gone.

Pages are shared by cases, so one notice or one check can move several cases; each
move goes through ``cases.status`` (checked against the case state machine, audited,
with the reason).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.cases import status
from reclaim.cases.domain import CaseStatus
from reclaim.cases.models import Case, Item
from reclaim.domain.clock import Clock, system_clock
from reclaim.takedown.domain import PageOutcome
from reclaim.takedown.models import Notice, NoticePage

_GONE = (PageOutcome.REMOVED, PageOutcome.NOT_FOUND)


def cases_of_pages(session: Session, page_ids: Collection[int]) -> list[Case]:
    """The cases with a live item on any of these pages."""
    if not page_ids:
        return []
    return list(
        session.scalars(
            select(Case)
            .join(Item, Item.case_id == Case.id)
            .where(Item.page_id.in_(list(page_ids)), Item.withdrawn_at.is_(None))
            .distinct()
            .order_by(Case.id)
        )
    )


def after_sending(session: Session, notice: Notice, *, clock: Clock = system_clock) -> None:
    """Decided cases whose pages the notice names now await removal."""
    for case in cases_of_pages(session, [page.page_id for page in notice.pages]):
        if case.status is CaseStatus.ACTIONED:
            status.move(
                session,
                case,
                CaseStatus.AWAITING_REMOVAL,
                actor=audit.SYSTEM,
                why=f"notice {notice.reference} went to {notice.platform.name}",
                clock=clock,
            )


def after_outcomes(
    session: Session, page_ids: Collection[int], *, clock: Clock = system_clock
) -> None:
    """Cases whose every page that called for a notice is gone are resolved."""
    for case in cases_of_pages(session, page_ids):
        if case.status not in (CaseStatus.ACTIONED, CaseStatus.AWAITING_REMOVAL):
            continue
        if all_gone(session, case):
            status.move_towards(
                session,
                case,
                CaseStatus.RESOLVED,
                actor=audit.SYSTEM,
                why="every page, picture and account the notices named is gone",
                clock=clock,
            )


def all_gone(session: Session, case: Case) -> bool:
    """Every live item of the case that called for a notice has its page found gone
    (or every decided picture on it; for an offender's account, the account)."""
    needed = {
        item.page_id
        for item in case.items
        if item.withdrawn_at is None
        and item.page_id is not None
        and item.classification is not None
        and item.classification.calls_for_notice
    }
    if not needed:
        return False
    gone = set(
        session.scalars(
            select(NoticePage.page_id).where(
                NoticePage.page_id.in_(needed), NoticePage.outcome.in_(_GONE)
            )
        )
    )
    return needed <= gone
