"""The notices inbox of the partner API: a platform reads its notices, and acknowledges
and resolves them (``answers`` records what it says; verification decides)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reclaim.takedown.domain import NoticeStatus
from reclaim.takedown.models import Notice, NoticePage

#: What a partner sees: everything but drafts (which have not been sent to anyone).
VISIBLE_STATUSES = tuple(s for s in NoticeStatus if s is not NoticeStatus.DRAFT)


class UnknownNoticeError(LookupError):
    """No notice with this id was sent to the caller's platform."""


def list_notices(
    session: Session,
    platform_id: int,
    *,
    statuses: Collection[NoticeStatus] | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Notice]:
    """The platform's notices, oldest first, after ``after_id`` (a cursor)."""
    wanted = [s for s in (statuses or VISIBLE_STATUSES) if s is not NoticeStatus.DRAFT]
    return list(
        session.scalars(
            select(Notice)
            .options(selectinload(Notice.pages).selectinload(NoticePage.page))
            .where(
                Notice.platform_id == platform_id,
                Notice.status.in_(wanted),
                Notice.id > after_id,
            )
            .order_by(Notice.id)
            .limit(limit)
        )
    )


def get_notice(session: Session, platform_id: int, notice_id: int) -> Notice:
    notice = session.scalar(
        select(Notice)
        .options(selectinload(Notice.pages).selectinload(NoticePage.page))
        .where(
            Notice.id == notice_id,
            Notice.platform_id == platform_id,
            Notice.status.in_(VISIBLE_STATUSES),
        )
    )
    if notice is None:
        raise UnknownNoticeError(f"no notice {notice_id} was sent to this platform")
    return notice
