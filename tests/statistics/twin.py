"""The slow, obvious twin of the statistics module: every row read into Python, every
figure counted with loops.  Tests compare it with the SQL over the same synthetic rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.audit.models import AuditEvent
from reclaim.banks.models import Bank, BankEntry
from reclaim.cases.models import Case, Decision, Item, Media, MediaSignal, Report
from reclaim.platforms.models import Platform
from reclaim.statistics.domain import COUNTED_TYPES, Filter
from reclaim.takedown.domain import OPEN_NOTICE_STATUSES, NoticeKind, NoticeStatus, PageOutcome
from reclaim.takedown.models import Notice, NoticeMedia, NoticePage


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def month(moment: datetime, where: Filter) -> str:
    local = _aware(moment) + timedelta(minutes=where.period.offset_minutes)
    return f"{local:%Y-%m}"


def inside(moment: datetime | None, where: Filter) -> bool:
    return moment is not None and where.period.start <= _aware(moment) < where.period.end


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest rank, written the textbook way."""
    if not values:
        return None
    ordered = sorted(values)
    rank = 1
    while rank < len(ordered) and rank < fraction * len(ordered) - 1e-9:
        rank += 1
    return ordered[rank - 1]


@dataclass
class Spread:
    count: int
    median: float | None
    p90: float | None
    top: float | None


def spread(hours: list[float]) -> Spread:
    return Spread(
        len(hours), percentile(hours, 0.5), percentile(hours, 0.9), max(hours) if hours else None
    )


def intake(  # noqa: C901 - the slow twin is deliberately plain loops
    session: Session, where: Filter
) -> dict[str, Any]:
    cases = {c.id: c for c in session.scalars(select(Case))}
    items = list(session.scalars(select(Item)))

    def case_ok(case: Case) -> bool:
        if where.urgent is not None and case.urgent != where.urgent:
            return False
        return not (
            where.classification is not None
            and not any(
                i.case_id == case.id and i.classification == where.classification for i in items
            )
        )

    reports = []
    for report in session.scalars(select(Report)):
        if not inside(report.created_at, where):
            continue
        if where.urgent is not None and cases[report.case_id].urgent != where.urgent:
            continue
        if where.classification is not None and not any(
            i.report_id == report.id and i.classification == where.classification for i in items
        ):
            continue
        reports.append(report)
    chosen_cases = [c for c in cases.values() if inside(c.created_at, where) and case_ok(c)]
    report_ids = {r.id for r in reports}
    case_ids = {c.id for c in chosen_cases}
    by_type = {}
    for classification in COUNTED_TYPES:
        by_type[classification.value] = (
            len(
                {
                    i.report_id
                    for i in items
                    if i.report_id in report_ids and i.classification == classification
                }
            ),
            len(
                {
                    i.case_id
                    for i in items
                    if i.case_id in case_ids and i.classification == classification
                }
            ),
        )
    type_by_month: dict[str, dict[str, int]] = defaultdict(dict)
    for case in chosen_cases:
        kinds = {
            i.classification
            for i in items
            if i.case_id == case.id and i.classification in COUNTED_TYPES
        }
        for kind in kinds:
            bucket = type_by_month[month(case.created_at, where)]
            bucket[kind.value] = bucket.get(kind.value, 0) + 1
    channels: Counter[str] = Counter()
    for report in reports:
        kinds = {i.kind.value for i in items if i.report_id == report.id}
        channels["url" if "url" in kinds else "hash_only" if "file" in kinds else "empty"] += 1
    return {
        "reports": len(reports),
        "cases": len(chosen_cases),
        "urgent_cases": sum(c.urgent for c in chosen_cases),
        "reports_by_month": dict(Counter(month(r.created_at, where) for r in reports)),
        "cases_by_month": dict(Counter(month(c.created_at, where) for c in chosen_cases)),
        "by_type": by_type,
        "type_by_month": dict(type_by_month),
        "by_age": dict(Counter(r.age_group.value for r in reports)),
        "by_reporter": dict(Counter(r.reporter_role.value for r in reports)),
        "by_channel": dict(channels),
    }


def removal(  # noqa: C901 - the slow twin is deliberately plain loops
    session: Session, where: Filter, now: datetime
) -> dict[str, dict[str, Any]]:
    platforms = {p.id: p.name for p in session.scalars(select(Platform))}
    notices = {n.id: n for n in session.scalars(select(Notice))}
    pages = []
    for page in session.scalars(select(NoticePage)):
        notice = notices[page.notice_id]
        if notice.kind != NoticeKind.CONTENT or notice.status == NoticeStatus.DRAFT:
            continue
        if not inside(notice.sent_at, where):
            continue
        if where.platform_id is not None and notice.platform_id != where.platform_id:
            continue
        if where.classification is not None and page.classification != where.classification:
            continue
        pages.append(page)
    media = list(session.scalars(select(NoticeMedia)))
    all_media = {m.id: m for m in session.scalars(select(Media))}
    links = list(session.scalars(select(MediaSignal)))
    groups: dict[str, list[NoticePage]] = defaultdict(list)
    for page in pages:
        groups[platforms[notices[page.notice_id].platform_id]].append(page)
        groups[""].append(page)
    found = {}
    for name, members in groups.items():
        ids = {p.id for p in members}
        gone = [p for p in members if p.outcome in (PageOutcome.REMOVED, PageOutcome.NOT_FOUND)]
        hours = [
            (_aware(p.removed_at) - _aware(notices[p.notice_id].sent_at)).total_seconds() / 3600
            for p in gone
            if p.removed_at is not None
        ]
        with_deadline = [p for p in gone if p.removed_at and notices[p.notice_id].deadline_at]
        noticed_media = [m for m in media if m.notice_page_id in ids]
        came_back = 0
        for m in noticed_media:
            if m.removed_at is None:
                continue
            signals = {link.signal_id for link in links if link.media_id == m.media_id}
            if any(
                link.signal_id in signals
                and link.media_id != m.media_id
                and _aware(all_media[link.media_id].first_seen_at) > _aware(m.removed_at)
                for link in links
            ):
                came_back += 1
        notice_ids = {p.notice_id for p in members}
        found[name] = {
            "notices": len(notice_ids),
            "pages": len(members),
            "removed": len(gone),
            "partially_removed": sum(p.outcome == PageOutcome.PARTIALLY_REMOVED for p in members),
            "refused": sum(p.outcome == PageOutcome.REFUSED for p in members),
            "expired": sum(
                p not in gone and notices[p.notice_id].status == NoticeStatus.EXPIRED
                for p in members
            ),
            "media": len(noticed_media),
            "media_removed": sum(m.outcome.value == "removed" for m in noticed_media),
            "overdue": sum(
                1
                for i in notice_ids
                if notices[i].status in OPEN_NOTICE_STATUSES
                and notices[i].deadline_at is not None
                and _aware(notices[i].deadline_at) <= now
            ),
            "removed_with_deadline": len(with_deadline),
            "within_deadline": sum(
                _aware(p.removed_at) <= _aware(notices[p.notice_id].deadline_at)
                for p in with_deadline  # type: ignore[arg-type]
            ),
            "reuploads": came_back,
            "time": spread(hours),
            "bands": (
                sum(h <= 24 for h in hours),
                sum(24 < h <= 72 for h in hours),
                sum(72 < h <= 168 for h in hours),
                sum(h > 168 for h in hours),
            ),
        }
    return found


def work(session: Session, where: Filter) -> dict[str, dict[str, Spread]]:
    items = list(session.scalars(select(Item)))
    decisions = list(session.scalars(select(Decision)))
    events = [
        e
        for e in session.scalars(select(AuditEvent))
        if e.tag == "case:case:viewed" and e.actor_type.value == "user"
    ]
    look: dict[str, list[float]] = {"urgent": [], "not_urgent": []}
    decide: dict[str, list[float]] = {"urgent": [], "not_urgent": []}
    for case in session.scalars(select(Case)):
        if not inside(case.created_at, where):
            continue
        if where.urgent is not None and case.urgent != where.urgent:
            continue
        case_items = [i for i in items if i.case_id == case.id]
        if where.classification is not None and not any(
            i.classification == where.classification for i in case_items
        ):
            continue
        key = "urgent" if case.urgent else "not_urgent"
        views = [
            _aware(e.created_at)
            for e in events
            if e.target_id == case.id and e.target_type.value == "case"
        ]
        if views:
            look[key].append((min(views) - _aware(case.created_at)).total_seconds() / 3600)
        item_ids = {i.id for i in case_items}
        made = [_aware(d.created_at) for d in decisions if d.item_id in item_ids]
        if made:
            decide[key].append((min(made) - _aware(case.created_at)).total_seconds() / 3600)
    return {
        "first_look": {k: spread(v) for k, v in look.items()},
        "decision": {k: spread(v) for k, v in decide.items()},
    }


def banks(session: Session, where: Filter) -> dict[tuple[str, str, str], tuple[int, int]]:
    names = {b.id: b.name for b in session.scalars(select(Bank))}
    found: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for entry in session.scalars(select(BankEntry)):
        if inside(entry.added_at, where):
            found[(names[entry.bank_id], entry.category.value, month(entry.added_at, where))][
                0
            ] += 1
        if inside(entry.withdrawn_at, where):
            found[(names[entry.bank_id], entry.category.value, month(entry.withdrawn_at, where))][
                1
            ] += 1  # type: ignore[arg-type]
    return {k: (v[0], v[1]) for k, v in found.items()}
