"""Removal figures per platform (what supervisors watch) and a case's progress (what the
reporter is told).

Pages and media are counted once however many cases report them; a page counts as
removed only when verification found it, or every decided picture on it, gone.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim.cases.models import Item
from reclaim.platforms.models import Platform
from reclaim.takedown.domain import (
    MediaOutcome,
    NoticeKind,
    NoticeStatus,
    PageOutcome,
    VerificationOutcome,
)
from reclaim.takedown.models import Notice, NoticeMedia, NoticePage, Verification


@dataclass(frozen=True, slots=True)
class PlatformFigures:
    platform: str
    platform_id: int
    notices: int
    pages: int
    removed: int  # pages
    partially_removed: int  # pages with some decided pictures still up
    refused: int  # pages the platform refused
    media: int
    media_removed: int
    open_notices: int
    overdue: int
    median_hours_to_removal: float | None
    within_deadline: int  # pages removed before their notice's deadline

    @property
    def items(self) -> int:  # what the dashboard called them before pages
        return self.pages

    @property
    def compliance(self) -> float | None:
        """Share of removed pages that came down within the deadline."""
        return self.within_deadline / self.removed if self.removed else None


def platform_figures(session: Session, now: datetime) -> list[PlatformFigures]:
    rows = session.execute(
        select(NoticePage, Notice, Platform)
        .join(Notice, NoticePage.notice_id == Notice.id)
        .join(Platform, Notice.platform_id == Platform.id)
        .where(Notice.status != NoticeStatus.DRAFT, Notice.kind == NoticeKind.CONTENT)
    ).all()
    media_counts = _media_counts(session)
    grouped: dict[int, list[tuple[NoticePage, Notice, Platform]]] = defaultdict(list)
    for notice_page, notice, platform in rows:
        grouped[platform.id].append((notice_page, notice, platform))
    figures = []
    for platform_id, entries in grouped.items():
        notices = {n.id: n for _, n, _ in entries}
        removal_hours = [
            (p.removed_at - n.sent_at) / timedelta(hours=1)
            for p, n, _ in entries
            if p.outcome.is_gone and p.removed_at and n.sent_at
        ]
        media_total = sum(media_counts.get(p.id, (0, 0))[0] for p, _, _ in entries)
        media_removed = sum(media_counts.get(p.id, (0, 0))[1] for p, _, _ in entries)
        figures.append(
            PlatformFigures(
                platform=entries[0][2].name,
                platform_id=platform_id,
                notices=len(notices),
                pages=len(entries),
                removed=sum(p.outcome.is_gone for p, _, _ in entries),
                partially_removed=sum(
                    p.outcome is PageOutcome.PARTIALLY_REMOVED for p, _, _ in entries
                ),
                refused=sum(p.outcome is PageOutcome.REFUSED for p, _, _ in entries),
                media=media_total,
                media_removed=media_removed,
                open_notices=sum(n.status.is_open for n in notices.values()),
                overdue=sum(
                    1
                    for n in notices.values()
                    if n.status.is_open and n.deadline_at is not None and n.deadline_at <= now
                ),
                median_hours_to_removal=(
                    round(statistics.median(removal_hours), 1) if removal_hours else None
                ),
                within_deadline=sum(
                    1
                    for p, n, _ in entries
                    if p.removed_at and n.deadline_at and p.removed_at <= n.deadline_at
                ),
            )
        )
    return sorted(figures, key=lambda f: (-f.overdue, f.platform))


def _media_counts(session: Session) -> dict[int, tuple[int, int]]:
    """notice page id -> (decided media, removed media)."""
    rows = session.execute(
        select(NoticeMedia.notice_page_id, NoticeMedia.outcome, func.count()).group_by(
            NoticeMedia.notice_page_id, NoticeMedia.outcome
        )
    )
    found: dict[int, tuple[int, int]] = {}
    for page_id, outcome, count in rows:
        total, removed = found.get(page_id, (0, 0))
        found[page_id] = (
            total + count,
            removed + (count if outcome == MediaOutcome.REMOVED else 0),
        )
    return found


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
