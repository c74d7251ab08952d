"""A case's progress (what the reporter is told) and changed content (what an analyst
looks at again).  The removal figures per platform that supervisors watch are the
statistics module's (``reclaim.statistics``; the console's takedown dashboard).

Pages and media are counted once however many cases report them; a page counts as
removed only when verification found it, or every decided picture on it, gone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim.cases.models import Item
from reclaim.takedown.domain import (
    NoticeKind,
    NoticeStatus,
    PageOutcome,
    VerificationOutcome,
)
from reclaim.takedown.models import Notice, NoticePage, Verification


@dataclass(frozen=True, slots=True)
class CaseProgress:
    """What the reporter may see: requests sent to N sites, removed from X of Y."""

    sites: int
    items: int  # pages noticed
    removed: int  # pages found gone (or every decided picture on them)
    partially: int = 0  # pages with some pictures gone, some still up


def case_progress(session: Session, case_id: int) -> CaseProgress:
    pages = select(Item.page_id).where(Item.case_id == case_id, Item.page_id.is_not(None))
    rows = session.execute(
        select(Notice.platform_id, NoticePage.page_id, NoticePage.outcome)
        .join(NoticePage, NoticePage.notice_id == Notice.id)
        .where(
            NoticePage.page_id.in_(pages),
            Notice.status != NoticeStatus.DRAFT,
            Notice.kind == NoticeKind.CONTENT,
        )
    ).all()
    best: dict[int, PageOutcome] = {}
    for _platform, page_id, outcome in rows:
        if page_id not in best or outcome.is_gone:
            best[page_id] = outcome
    return CaseProgress(
        sites=len({platform for platform, _, _ in rows}),
        items=len(best),
        removed=sum(outcome.is_gone for outcome in best.values()),
        partially=sum(o is PageOutcome.PARTIALLY_REMOVED for o in best.values()),
    )


def changed_content(session: Session) -> list[NoticePage]:
    """Noticed pages whose latest check found different content: an analyst looks."""
    latest = (
        select(Verification.notice_page_id, func.max(Verification.id).label("last_id"))
        .group_by(Verification.notice_page_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(NoticePage)
            .join(latest, latest.c.notice_page_id == NoticePage.id)
            .join(Verification, Verification.id == latest.c.last_id)
            .where(
                Verification.outcome == VerificationOutcome.CHANGED,
                NoticePage.outcome.in_([PageOutcome.PENDING, PageOutcome.PARTIALLY_REMOVED]),
            )
            .order_by(NoticePage.id)
        )
    )
