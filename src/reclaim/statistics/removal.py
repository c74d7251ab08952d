"""Takedown figures per platform and overall: pages and media noticed and what became
of them, time to removal (median, p90, max), the share removed within the legal
deadline, overdue notices, and re-uploads — each one aggregate query.

Counted: content notices sent in the period (drafts and account notices are not
removal requests).  A page counts as removed when verification found it, or every
decided picture on it, gone (``PageOutcome.is_gone``); "expired" is a page not gone whose
notice's follow-up ended (escalated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal_column, select
from sqlalchemy.orm import Session, aliased

from reclaim.cases.models import Media, MediaSignal
from reclaim.platforms.models import Platform
from reclaim.statistics.domain import EMPTY_SPREAD, Filter, Spread
from reclaim.statistics.sql import seconds_between, spreads
from reclaim.takedown.domain import (
    OPEN_NOTICE_STATUSES,
    MediaOutcome,
    NoticeKind,
    NoticeStatus,
    PageOutcome,
)
from reclaim.takedown.models import Notice, NoticeMedia, NoticePage

GONE = (PageOutcome.REMOVED, PageOutcome.NOT_FOUND)
#: Upper bounds (hours) of the time-to-removal bands; the last band is open.
BANDS = (24, 72, 168)
BAND_NAMES = ("within_24h", "24h_to_72h", "72h_to_7d", "over_7d")


@dataclass(frozen=True, slots=True)
class RemovalFigures:
    platform: str  # "" for the overall row
    notices: int
    pages: int
    removed: int
    partially_removed: int
    refused: int
    expired: int
    media: int
    media_removed: int
    overdue: int
    removed_with_deadline: int
    within_deadline: int
    reuploads: int
    time_to_removal: Spread
    bands: tuple[int, ...]  # pages removed within each of BAND_NAMES

    @property
    def compliance(self) -> float | None:
        """Share of removed pages (with a deadline) that came down within it."""
        return (
            self.within_deadline / self.removed_with_deadline
            if self.removed_with_deadline
            else None
        )


def _noticed(where: Filter) -> Select[Any]:
    """(notice page id, platform name) of every page the filter counts."""
    period = where.period
    query: Any = (
        select(NoticePage.id.label("id"), Platform.name.label("platform"))
        .join(Notice, Notice.id == NoticePage.notice_id)
        .join(Platform, Platform.id == Notice.platform_id)
        .where(
            Notice.kind == NoticeKind.CONTENT,
            Notice.status != NoticeStatus.DRAFT,
            Notice.sent_at >= period.start,
            Notice.sent_at < period.end,
        )
    )
    if where.platform_id is not None:
        query = query.where(Notice.platform_id == where.platform_id)
    if where.classification is not None:
        query = query.where(NoticePage.classification == where.classification)
    return query  # type: ignore[no-any-return]


def removal_figures(session: Session, where: Filter, now: datetime) -> list[RemovalFigures]:
    """One row per platform with notices in the filter, then the overall row (platform
    "")."""
    per_platform = _figures(session, where, now, by_platform=True)
    overall = _figures(session, where, now, by_platform=False)
    return [per_platform[name] for name in sorted(per_platform)] + [overall.get("", _empty(""))]


def _empty(platform: str) -> RemovalFigures:
    return RemovalFigures(platform, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, EMPTY_SPREAD, (0,) * 4)


def platform_figures(session: Session, where: Filter, now: datetime) -> dict[str, RemovalFigures]:
    """Per platform with pages in the filter (no overall row)."""
    return _figures(session, where, now, by_platform=True)


def overdue_counts(
    session: Session, where: Filter, now: datetime, *, by_platform: bool
) -> dict[str, int]:
    """Per platform (or "" overall): open notices of the filter past their deadline now.

    Starts from the few open notices past their deadline (not from every page noticed
    in the period), keeping those the filter counts: content notices sent in the period
    with a page (of the type, with a type filter)."""
    period = where.period
    # The late open notices first, on their own (MATERIALIZED: or the planner walks
    # every notice sent in the period instead).
    late = (
        select(Notice.id.label("id"))
        .where(
            Notice.status.in_(OPEN_NOTICE_STATUSES),
            Notice.deadline_at.is_not(None),
            Notice.deadline_at <= now,
        )
        .cte("late_notices")
        .prefix_with("MATERIALIZED")
    )
    key: Any = Platform.name if by_platform else literal_column("''")
    pages = exists().where(NoticePage.notice_id == Notice.id)
    if where.classification is not None:
        pages = pages.where(NoticePage.classification == where.classification)
    query = (
        select(key, func.count(func.distinct(Notice.id)))
        .select_from(late)
        .join(Notice, Notice.id == late.c.id)
        .join(Platform, Platform.id == Notice.platform_id)
        .where(
            Notice.kind == NoticeKind.CONTENT,
            Notice.status != NoticeStatus.DRAFT,
            Notice.sent_at >= period.start,
            Notice.sent_at < period.end,
            pages,
        )
        .group_by(*([Platform.name] if by_platform else []))
    )
    if where.platform_id is not None:
        query = query.where(Notice.platform_id == where.platform_id)
    return {row[0]: int(row[1]) for row in session.execute(query).all()}


def removal_durations(session: Session, where: Filter, *, by_platform: bool) -> Select[Any]:
    """(platform or "", seconds from sending to removal) of every removed page."""
    noticed = _noticed(where).subquery()
    key: Any = noticed.c.platform if by_platform else literal_column("''")
    gone = NoticePage.outcome.in_(GONE)
    return (
        select(key.label("k"), seconds_between(session, NoticePage.removed_at, Notice.sent_at))
        .select_from(noticed)
        .join(NoticePage, NoticePage.id == noticed.c.id)
        .join(Notice, Notice.id == NoticePage.notice_id)
        .where(gone, NoticePage.removed_at.is_not(None))
    )


def _figures(
    session: Session, where: Filter, now: datetime, *, by_platform: bool
) -> dict[str, RemovalFigures]:
    noticed = _noticed(where).subquery()
    key: Any = noticed.c.platform if by_platform else literal_column("''")
    gone = NoticePage.outcome.in_(GONE)
    hours = seconds_between(session, NoticePage.removed_at, Notice.sent_at) / 3600.0

    def flag(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    removed_in_time = and_(
        gone, NoticePage.removed_at.is_not(None), Notice.deadline_at.is_not(None)
    )
    band_flags = [
        flag(and_(gone, NoticePage.removed_at.is_not(None), hours <= bound)) for bound in BANDS
    ]
    page_rows = session.execute(
        select(
            noticed.c.platform if by_platform else literal_column("''"),
            func.count(func.distinct(Notice.id)),
            func.count(),
            flag(gone),
            flag(NoticePage.outcome == PageOutcome.PARTIALLY_REMOVED),
            flag(NoticePage.outcome == PageOutcome.REFUSED),
            flag(and_(~gone, Notice.status == NoticeStatus.EXPIRED)),
            flag(removed_in_time),
            flag(and_(removed_in_time, NoticePage.removed_at <= Notice.deadline_at)),
            *band_flags,
            flag(and_(gone, NoticePage.removed_at.is_not(None))),
        )
        .select_from(noticed)
        .join(NoticePage, NoticePage.id == noticed.c.id)
        .join(Notice, Notice.id == NoticePage.notice_id)
        .group_by(*([noticed.c.platform] if by_platform else []))
    ).all()

    media_rows = {
        row[0]: (int(row[1]), int(row[2] or 0))
        for row in session.execute(
            select(
                key,
                func.count(),
                func.sum(case((NoticeMedia.outcome == MediaOutcome.REMOVED, 1), else_=0)),
            )
            .select_from(noticed)
            .join(NoticeMedia, NoticeMedia.notice_page_id == noticed.c.id)
            .group_by(*([noticed.c.platform] if by_platform else []))
        ).all()
    }

    overdue = overdue_counts(session, where, now, by_platform=by_platform)

    # Re-uploads: a removed picture whose signal turned up again on a media object
    # first seen after the removal.
    later = aliased(Media)
    later_signal = aliased(MediaSignal)
    came_back = exists().where(
        later_signal.signal_id == MediaSignal.signal_id,
        later_signal.media_id == later.id,
        later.id != NoticeMedia.media_id,
        later.first_seen_at > NoticeMedia.removed_at,
    )
    reuploaded = (
        select(key.label("k"), NoticeMedia.id.label("nm"))
        .select_from(noticed)
        .join(NoticeMedia, NoticeMedia.notice_page_id == noticed.c.id)
        .join(MediaSignal, MediaSignal.media_id == NoticeMedia.media_id)
        .where(NoticeMedia.removed_at.is_not(None), came_back)
        .distinct()
        .subquery()
    )
    reuploads = {
        row[0]: int(row[1])
        for row in session.execute(
            select(reuploaded.c.k, func.count()).group_by(reuploaded.c.k)
        ).all()
    }

    durations = removal_durations(session, where, by_platform=by_platform)
    spread = spreads(session, durations)

    found: dict[str, RemovalFigures] = {}
    for row in page_rows:
        name = str(row[0])
        cumulative = [int(v or 0) for v in row[9:12]]
        timed = int(row[12] or 0)
        bands = (
            cumulative[0],
            cumulative[1] - cumulative[0],
            cumulative[2] - cumulative[1],
            timed - cumulative[2],
        )
        media, media_removed = media_rows.get(name, (0, 0))
        found[name] = RemovalFigures(
            platform=name,
            notices=int(row[1]),
            pages=int(row[2]),
            removed=int(row[3] or 0),
            partially_removed=int(row[4] or 0),
            refused=int(row[5] or 0),
            expired=int(row[6] or 0),
            media=media,
            media_removed=media_removed,
            overdue=overdue.get(name, 0),
            removed_with_deadline=int(row[7] or 0),
            within_deadline=int(row[8] or 0),
            reuploads=reuploads.get(name, 0),
            time_to_removal=spread.get(name, EMPTY_SPREAD),
            bands=bands,
        )
    return found
