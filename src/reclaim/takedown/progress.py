"""Removal figures per platform: what supervisors watch and transparency reports print."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim.platforms.models import Platform
from reclaim.takedown.domain import ItemOutcome, NoticeStatus, VerificationOutcome
from reclaim.takedown.models import Notice, NoticeItem, Verification


@dataclass(frozen=True, slots=True)
class PlatformFigures:
    platform: str
    platform_id: int
    notices: int
    items: int
    removed: int
    open_notices: int
    overdue: int
    median_hours_to_removal: float | None
    within_deadline: int  # items removed before their notice's deadline

    @property
    def compliance(self) -> float | None:
        """Share of removed items that came down within the deadline."""
        return self.within_deadline / self.removed if self.removed else None


def platform_figures(session: Session, now: datetime) -> list[PlatformFigures]:
    rows = session.execute(
        select(NoticeItem, Notice, Platform)
        .join(Notice, NoticeItem.notice_id == Notice.id)
        .join(Platform, Notice.platform_id == Platform.id)
        .where(Notice.status != NoticeStatus.DRAFT)
    ).all()
    grouped: dict[int, list[tuple[NoticeItem, Notice, Platform]]] = defaultdict(list)
    for notice_item, notice, platform in rows:
        grouped[platform.id].append((notice_item, notice, platform))
    figures = []
    for platform_id, entries in grouped.items():
        notices = {n.id: n for _, n, _ in entries}
        removal_hours = [
            (i.removed_at - n.sent_at) / timedelta(hours=1)
            for i, n, _ in entries
            if i.outcome == ItemOutcome.REMOVED and i.removed_at and n.sent_at
        ]
        within = sum(
            1
            for i, n, _ in entries
            if i.removed_at and n.deadline_at and i.removed_at <= n.deadline_at
        )
        figures.append(
            PlatformFigures(
                platform=entries[0][2].name,
                platform_id=platform_id,
                notices=len(notices),
                items=len(entries),
                removed=sum(i.outcome == ItemOutcome.REMOVED for i, _, _ in entries),
                open_notices=sum(n.status.is_open for n in notices.values()),
                overdue=sum(
                    1
                    for n in notices.values()
                    if n.status.is_open and n.deadline_at is not None and n.deadline_at <= now
                ),
                median_hours_to_removal=(
                    round(statistics.median(removal_hours), 1) if removal_hours else None
                ),
                within_deadline=within,
            )
        )
    return sorted(figures, key=lambda f: (-f.overdue, f.platform))


@dataclass(frozen=True, slots=True)
class CaseProgress:
    """What the reporter may see: requests sent to N sites, removed from X of Y."""

    sites: int
    items: int
    removed: int


def case_progress(session: Session, case_id: int) -> CaseProgress:
    rows = session.execute(
        select(Notice.platform_id, NoticeItem.outcome)
        .join(NoticeItem, NoticeItem.notice_id == Notice.id)
        .where(Notice.case_id == case_id, Notice.status != NoticeStatus.DRAFT)
    ).all()
    return CaseProgress(
        sites=len({platform for platform, _ in rows}),
        items=len(rows),
        removed=sum(outcome == ItemOutcome.REMOVED for _, outcome in rows),
    )


def changed_content(session: Session) -> list[NoticeItem]:
    """Noticed items whose latest check found different content: an analyst looks."""
    latest = (
        select(Verification.notice_item_id, func.max(Verification.id).label("last_id"))
        .group_by(Verification.notice_item_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(NoticeItem)
            .join(latest, latest.c.notice_item_id == NoticeItem.id)
            .join(Verification, Verification.id == latest.c.last_id)
            .where(
                Verification.outcome == VerificationOutcome.CHANGED,
                NoticeItem.outcome == ItemOutcome.PENDING,
            )
            .order_by(NoticeItem.id)
        )
    )
