"""What a case still has to notice: decided pages no notice covers, held pages, pages
without a platform, offender accounts.

Pages are shared by every case that reports them, so what is pending is worked out per
page, from the decisions of every case that reports it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.cases.case_view import conflicting
from reclaim.cases.domain import Classification, DecisionStatus, ItemKind
from reclaim.cases.models import Case, Decision, DecisionMedia, Item, Media, Page
from reclaim.takedown.domain import COVERING, NoticeKind
from reclaim.takedown.models import Notice, NoticePage


@dataclass(slots=True)
class PendingPage:
    """A decided page no notice covers yet, with everything the decisions say of it."""

    page: Page
    classifications: list[Classification] = field(default_factory=list)
    media: dict[int, Media] = field(default_factory=dict)
    cases: set[str] = field(default_factory=set)
    posted_by: str | None = None

    @property
    def classification(self) -> Classification:
        """The strictest (the one with the shortest deadline, minors first)."""
        return min(
            self.classifications,
            key=lambda c: (not c.involves_minor, not c.calls_for_removal, c.value),
        )

    @property
    def conflicts(self) -> bool:
        first = self.classifications[0]
        return any(conflicting(first, other) for other in self.classifications[1:])


def _covered_page_ids(session: Session, page_ids: Sequence[int]) -> set[int]:
    """Pages already in a content notice that is a draft, open or done."""
    rows = session.scalars(
        select(NoticePage.page_id)
        .join(Notice, Notice.id == NoticePage.notice_id)
        .where(
            NoticePage.page_id.in_(list(page_ids)),
            Notice.kind == NoticeKind.CONTENT,
            Notice.status.in_(COVERING),
        )
    )
    return set(rows)


def covered_page_ids(session: Session, page_ids: Sequence[int]) -> set[int]:
    """Pages already in a content notice that is a draft, open or done."""
    return _covered_page_ids(session, page_ids)


def pending_pages(session: Session, case: Case) -> list[PendingPage]:
    """The case's decided pages that call for a notice and no notice covers yet, each
    with the decisions of every case that reports it."""
    page_ids = sorted(
        {
            item.page_id
            for item in case.items
            if item.page_id is not None
            and item.withdrawn_at is None
            and item.classification is not None
            and item.classification.calls_for_removal
        }
    )
    covered = _covered_page_ids(session, page_ids)
    wanted = [page_id for page_id in page_ids if page_id not in covered]
    if not wanted:
        return []
    found: dict[int, PendingPage] = {}
    rows = session.execute(
        select(Item, Case.number)
        .join(Case, Case.id == Item.case_id)
        .where(
            Item.page_id.in_(wanted),
            Item.withdrawn_at.is_(None),
            Item.classification.is_not(None),
        )
        .order_by(Item.id)
    ).all()
    for item, number in rows:
        if item.page is None or item.classification is None:
            continue  # the query asked for neither, but the types cannot know
        pending = found.setdefault(item.page.id, PendingPage(item.page))
        pending.classifications.append(item.classification)
        pending.cases.add(number)
        pending.posted_by = pending.posted_by or item.posted_by
    for page_id, media in _decided_media(session, wanted).items():
        found[page_id].media.update((m.id, m) for m in media)
    return [found[page_id] for page_id in wanted if page_id in found]


def _decided_media(session: Session, page_ids: Sequence[int]) -> dict[int, list[Media]]:
    """page id -> the media that decisions in force cover, from every case."""
    rows = session.scalars(
        select(Media)
        .join(DecisionMedia, DecisionMedia.media_id == Media.id)
        .join(Decision, Decision.id == DecisionMedia.decision_id)
        .where(
            Media.page_id.in_(list(page_ids)),
            Decision.status == DecisionStatus.RECORDED,
            Decision.classification.in_([c for c in Classification if c.calls_for_removal]),
        )
        .distinct()
        .order_by(Media.id)
    )
    found: dict[int, list[Media]] = defaultdict(list)
    for media in rows:
        found[media.page_id or 0].append(media)
    return found


def held_pages(session: Session, case: Case) -> list[PendingPage]:
    """Pending pages held back because cases decided them in conflicting ways."""
    return [p for p in pending_pages(session, case) if p.conflicts]


def items_without_platform(case: Case) -> list[Item]:
    """The case's decided URLs whose host no platform in the directory owns."""
    return [
        item
        for item in case.items
        if item.page is not None
        and item.page.platform_id is None
        and item.withdrawn_at is None
        and item.classification is not None
        and item.classification.calls_for_removal
    ]


def account_items(session: Session, case: Case) -> list[Item]:
    """The case's offender accounts: profile pages decided as a threat or grooming,
    not yet in an account notice."""
    candidates = [
        item
        for item in case.items
        if item.kind is ItemKind.URL
        and item.page is not None
        and item.withdrawn_at is None
        and item.classification is not None
        and item.classification.targets_account
    ]
    if not candidates:
        return []
    noticed = set(
        session.scalars(
            select(NoticePage.page_id)
            .join(Notice, Notice.id == NoticePage.notice_id)
            .where(
                Notice.kind == NoticeKind.ACCOUNT,
                Notice.status.in_(COVERING),
                NoticePage.page_id.in_([i.page_id for i in candidates]),
            )
        )
    )
    return [item for item in candidates if item.page_id not in noticed]
