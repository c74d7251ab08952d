"""One account notice for many victims' cases: an offender's account, cited by case.

When several cases (a linkage cluster) name the same account on one platform, the
platform gets one account notice naming the account's profile page and citing every
case that names it: the case numbers and what each case reported on that platform,
never a reporter's details.  The notice is an ordinary account notice after that:
approved and sent by a supervisor through the outbox, with its deadline, reminders,
checks and audit.  Which cases name which account is the caller's to say (linkage
finds it; takedown and linkage do not import each other).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.cases import pages
from reclaim.cases.domain import Classification
from reclaim.cases.models import Case, Item
from reclaim.domain.clock import Clock, system_clock
from reclaim.platforms.models import Platform
from reclaim.takedown.domain import COVERING, NoticeKind, PageOutcome
from reclaim.takedown.models import Notice, NoticeCitation, NoticePage
from reclaim.takedown.notices import NoticeError, _audit, _new_notice


def draft_cluster_account_notice(
    session: Session,
    platform: Platform,
    profile_url: str,
    citations: Mapping[int, Sequence[int]],
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
    details: Mapping[str, object] | None = None,
) -> Notice:
    """A draft account notice to ``platform`` for the account at ``profile_url``,
    citing each case of ``citations`` (case id -> its item ids on the platform)."""
    if not citations:
        raise NoticeError("no case names this account")
    now = clock()
    page = pages.page_for(session, profile_url, now=now)
    if page.platform_id is None:
        page.platform_id = platform.id
    elif page.platform_id != platform.id:
        raise NoticeError("this profile page is hosted by another platform")
    if open_account_notice(session, page.id) is not None:
        raise NoticeError("an account notice for this account is already open")
    notice = _new_notice(session, platform, NoticeKind.ACCOUNT, actor, clock)
    notice.pages.append(
        NoticePage(
            page_id=page.id,
            classification=Classification.SEXTORTION_THREAT,
            outcome=PageOutcome.PENDING,
        )
    )
    session.flush()
    for case_id, item_ids in sorted(citations.items()):
        cited: list[int | None] = [*item_ids] or [None]
        for item_id in cited:
            session.add(
                NoticeCitation(
                    notice_id=notice.id, case_id=case_id, item_id=item_id, created_at=now
                )
            )
    session.flush()
    numbers = sorted(session.scalars(select(Case.number).where(Case.id.in_(list(citations)))).all())
    _audit(
        session,
        notice,
        actor,
        clock,
        {"status": "draft", "kind": "account", "pages": 1, "cases": numbers} | dict(details or {}),
    )
    return notice


def open_account_notice(session: Session, page_id: int) -> Notice | None:
    """The account notice (a draft, open or done) already naming this profile page."""
    return session.scalar(
        select(Notice)
        .join(NoticePage, NoticePage.notice_id == Notice.id)
        .where(
            NoticePage.page_id == page_id,
            Notice.kind == NoticeKind.ACCOUNT,
            Notice.status.in_(COVERING),
        )
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class CitedCase:
    case_id: int
    number: str
    urls: tuple[str, ...]  # what the case reported on the platform


def cited_cases(session: Session, notice_id: int) -> list[CitedCase]:
    """The cases an account notice cites, by number, each with its items' URLs."""
    rows = session.execute(
        select(Case.id, Case.number, Item.url)
        .join(NoticeCitation, NoticeCitation.case_id == Case.id)
        .outerjoin(Item, Item.id == NoticeCitation.item_id)
        .where(NoticeCitation.notice_id == notice_id)
        .order_by(Case.number, NoticeCitation.id)
    )
    found: dict[int, tuple[str, list[str]]] = {}
    for case_id, number, url in rows:
        _number, urls = found.setdefault(case_id, (number, []))
        if url and url not in urls:
            urls.append(url)
    return [CitedCase(c, number, tuple(urls)) for c, (number, urls) in found.items()]


def account_notices_citing(session: Session, case_id: int) -> list[Notice]:
    """The account notices that cite a case, oldest first (for its case page)."""
    return list(
        session.scalars(
            select(Notice)
            .join(NoticeCitation, NoticeCitation.notice_id == Notice.id)
            .where(NoticeCitation.case_id == case_id)
            .distinct()
            .order_by(Notice.id)
        )
    )
