"""The triage queue: open cases ordered by an urgency score that explains itself.

The score is a sum of named factors, each worth a fixed number of points, so an
analyst can see *why* a case sits where it does (``score`` returns the lines, the
page prints them).  The weights put a threat in progress first, a minor next, and let
waiting time and overdue cases climb steadily; docs/analysts.md lists them.

The queue is built from a handful of set-wise queries (cases, their reports, items,
quarantined fetches, item signals) and one call to the match engine for all the
signals at once: no query per case.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag
from reclaim.banks.engine import MatchEngine
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases.domain import AgeGroup, CaseStatus, Classification, Situation
from reclaim.cases.models import (
    Case,
    Item,
    Media,
    MediaSignal,
    Page,
    QuarantinedMedia,
    Report,
)
from reclaim.config import Settings
from reclaim.domain.clock import Clock
from reclaim.domain.signals import Signal, SignalType
from reclaim.platforms.models import Platform

#: Cases that wait for the hotline (to look, to decide, to send notices); cases that
#: wait only for platforms (awaiting removal) are followed on the takedown dashboard.
WORK_STATUSES = (CaseStatus.NEW, CaseStatus.IN_REVIEW, CaseStatus.ACTIONED)
#: Cases whose overdue time the hotline owes: the first look and the decision.
OWED_STATUSES = (CaseStatus.NEW, CaseStatus.IN_REVIEW)
THREAT_SITUATIONS = tuple(s for s in Situation if s.is_threat)
#: Items still waiting for a decision; only their bank matches tell the analyst something.
UNDECIDED = (None, Classification.NEEDS_INFORMATION)


class Factor(enum.StrEnum):
    """What can raise a case's urgency; the page explains each in words."""

    THREAT = "threat"  # sextortion or another threat in progress
    UNDER_18 = "under_18"  # a report says the person was under 18
    AGE_UNSURE = "age_unsure"  # a reporter could not say
    CONFIRMED_LIVE = "confirmed_live"  # a fetch for review found the content online
    CONFIRMED_MATCH = "confirmed_match"  # items match a verified bank
    URLS = "urls"
    PLATFORMS = "platforms"
    WAITING = "waiting"  # hours since the case was opened
    OVERDUE = "overdue"
    #: A linked group of cases (one offender?) gained a victim lately; every case in it
    #: is raised (count: the other cases in the group).  Linkage says which.
    LINKED_GROUP_GREW = "linked_group_grew"


#: Points per factor (for URLS, PLATFORMS and WAITING: per URL, platform or hour).
POINTS: dict[Factor, int] = {
    Factor.THREAT: 50,
    Factor.UNDER_18: 30,
    Factor.AGE_UNSURE: 10,
    Factor.CONFIRMED_LIVE: 15,
    Factor.CONFIRMED_MATCH: 20,
    Factor.URLS: 2,
    Factor.PLATFORMS: 4,
    Factor.WAITING: 1,
    Factor.OVERDUE: 25,
    Factor.LINKED_GROUP_GREW: 40,
}
#: Most points a counted factor can give, so that a flood of URLs or a very old case
#: cannot outrank a child in danger.
CAPS: dict[Factor, int] = {Factor.URLS: 10, Factor.PLATFORMS: 12, Factor.WAITING: 24}


@dataclass(frozen=True, slots=True)
class TriagePolicy:
    overdue_hours: int = 24
    urgent_overdue_hours: int = 2
    max_distance: int = 31

    @classmethod
    def from_settings(cls, settings: Settings) -> TriagePolicy:
        return cls(
            settings.triage_overdue_hours,
            settings.triage_urgent_overdue_hours,
            settings.match_max_distance,
        )

    def overdue_after(self, urgent: bool) -> timedelta:
        return timedelta(hours=self.urgent_overdue_hours if urgent else self.overdue_hours)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the score is computed from, for one case."""

    created_at: datetime
    threat: bool = False
    under_18: bool = False
    age_unsure: bool = False
    live_items: int = 0
    matched_items: int = 0
    url_count: int = 0
    platforms: frozenset[str] = frozenset()
    linked_cases: int = 0  # other cases in a linked group that grew lately


@dataclass(frozen=True, slots=True)
class ScoreLine:
    """One factor's contribution; ``count`` is how many URLs, hours, items..."""

    factor: Factor
    points: int
    count: int = 1


def hours_waiting(facts: CaseFacts, now: datetime) -> int:
    return max(0, int((now - facts.created_at).total_seconds() // 3600))


def is_overdue(facts: CaseFacts, now: datetime, policy: TriagePolicy) -> bool:
    return now - facts.created_at > policy.overdue_after(facts.threat)


def score(facts: CaseFacts, now: datetime, policy: TriagePolicy) -> list[ScoreLine]:
    """The factors that apply to a case, with their points, largest first."""
    lines: list[ScoreLine] = []

    def add(factor: Factor, count: int, *, per_count: bool = False) -> None:
        if count > 0:
            points = POINTS[factor] * count if per_count else POINTS[factor]
            lines.append(ScoreLine(factor, min(points, CAPS.get(factor, points)), count))

    add(Factor.THREAT, facts.threat)
    add(Factor.UNDER_18, facts.under_18)
    if facts.linked_cases:
        lines.append(
            ScoreLine(
                Factor.LINKED_GROUP_GREW, POINTS[Factor.LINKED_GROUP_GREW], facts.linked_cases
            )
        )
    add(Factor.AGE_UNSURE, facts.age_unsure and not facts.under_18)
    add(Factor.CONFIRMED_LIVE, facts.live_items)
    add(Factor.CONFIRMED_MATCH, facts.matched_items)
    add(Factor.URLS, facts.url_count, per_count=True)
    add(Factor.PLATFORMS, len(facts.platforms), per_count=True)
    add(Factor.WAITING, hours_waiting(facts, now), per_count=True)
    add(Factor.OVERDUE, is_overdue(facts, now, policy))
    return sorted(lines, key=lambda line: -line.points)


# --- the queue ---------------------------------------------------------------------

AssigneeFilter = Literal["me", "unassigned", "anyone"]
#: case ids -> {case id: other cases in its linked group that grew lately}; linkage
#: provides it (a feature above cases), the queue takes it as a collaborator.
LinkedGroups = Callable[[Session, list[int], datetime], Mapping[int, int]]


@dataclass(frozen=True, slots=True)
class QueueFilters:
    status: CaseStatus | None = None  # None: every status the hotline works on
    urgent_only: bool = False
    platform: str | None = None
    assignee: AssigneeFilter = "anyone"


@dataclass(frozen=True, slots=True)
class QueueEntry:
    case_id: int
    number: str
    status: CaseStatus
    created_at: datetime
    assignee_id: int | None
    assignee_name: str | None
    facts: CaseFacts
    lines: tuple[ScoreLine, ...]
    overdue: bool
    hours_waiting: int

    @property
    def score(self) -> int:
        return sum(line.points for line in self.lines)

    @property
    def urgent(self) -> bool:
        return self.facts.threat


@dataclass(frozen=True, slots=True)
class Queue:
    entries: list[QueueEntry]
    total: int  # entries matching the filters, before the display limit
    overdue: int  # overdue open cases, whatever the filters
    platforms: list[str] = field(default_factory=list)  # for the platform filter


def platform_label(url: str | None, platform_name: str | None) -> str | None:
    """The platform's name when known, else the URL's host (without ``www.``)."""
    if platform_name:
        return platform_name
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.removeprefix("www.")


def record_view(
    session: Session, filters: QueueFilters, queue: Queue, *, viewer_id: int, clock: Clock
) -> None:
    """Who looked at the queue, filtered how, and how many cases it showed; audited."""
    audit.record(
        session,
        AuditTag.QUEUE_VIEWED,
        actor=audit.Actor.user(viewer_id),
        details={
            "status": filters.status.value if filters.status else None,
            "urgent": filters.urgent_only,
            "platform": filters.platform,
            "assignee": filters.assignee,
            "shown": len(queue.entries),
        },
        clock=clock,
    )


def build_queue(
    session: Session,
    *,
    viewer_id: int,
    filters: QueueFilters,
    policy: TriagePolicy,
    matcher: MatchEngine,
    now: datetime,
    limit: int = 200,
    linked_groups: LinkedGroups | None = None,
) -> Queue:
    """Cases waiting for the hotline (or those of ``filters.status``), most urgent
    first."""
    case_ids = _case_ids(filters, viewer_id)
    rows = session.execute(
        select(
            Case.id, Case.number, Case.status, Case.urgent, Case.created_at, Case.assignee_id
        ).where(Case.id.in_(case_ids))
    ).all()
    threat, under_18, unsure = _report_facts(session, case_ids)
    items = _items(session, case_ids)
    live = _live_items(session, case_ids)
    matched = _matched_items(session, case_ids, matcher, policy.max_distance)
    names = user_names(session, {row.assignee_id for row in rows if row.assignee_id is not None})
    linked = linked_groups(session, [row.id for row in rows], now) if linked_groups else {}

    all_platforms: set[str] = set()
    entries = []
    for row in rows:
        case_items = items.get(row.id, [])
        platforms = frozenset(label for _id, _url, label in case_items if label)
        all_platforms |= platforms
        facts = CaseFacts(
            created_at=row.created_at,
            threat=bool(row.urgent) or row.id in threat,
            under_18=row.id in under_18,
            age_unsure=row.id in unsure,
            live_items=sum(1 for item_id, _url, _label in case_items if item_id in live),
            matched_items=sum(1 for item_id, _url, _label in case_items if item_id in matched),
            url_count=sum(1 for _id, url, _label in case_items if url),
            platforms=platforms,
            linked_cases=linked.get(row.id, 0),
        )
        if filters.urgent_only and not facts.threat:
            continue
        if filters.platform and filters.platform not in platforms:
            continue
        entries.append(
            QueueEntry(
                case_id=row.id,
                number=row.number,
                status=CaseStatus(row.status),
                created_at=row.created_at,
                assignee_id=row.assignee_id,
                assignee_name=names.get(row.assignee_id) if row.assignee_id else None,
                facts=facts,
                lines=tuple(score(facts, now, policy)),
                overdue=row.status in OWED_STATUSES and is_overdue(facts, now, policy),
                hours_waiting=hours_waiting(facts, now),
            )
        )
    entries.sort(key=lambda e: (-e.score, e.created_at, e.case_id))
    return Queue(
        entries=entries[:limit],
        total=len(entries),
        overdue=count_overdue(session, now=now, policy=policy),
        platforms=sorted(all_platforms),
    )


def count_overdue(session: Session, *, now: datetime, policy: TriagePolicy) -> int:
    """Cases waiting for a first look or a decision longer than the policy allows
    (urgent ones sooner): what the hotline owes, not what platforms owe."""
    threat_report = exists().where(
        Report.case_id == Case.id, Report.situation.in_(THREAT_SITUATIONS)
    )
    urgent = or_(Case.urgent.is_(True), threat_report)
    query = select(func.count(Case.id)).where(
        Case.status.in_(OWED_STATUSES),
        or_(
            Case.created_at < now - policy.overdue_after(urgent=False),
            and_(urgent, Case.created_at < now - policy.overdue_after(urgent=True)),
        ),
    )
    return session.scalar(query) or 0


def _case_ids(filters: QueueFilters, viewer_id: int) -> Select[int]:
    query = select(Case.id)
    if filters.status is None:
        query = query.where(Case.status.in_(WORK_STATUSES))
    else:
        query = query.where(Case.status == filters.status)
    if filters.assignee == "me":
        query = query.where(Case.assignee_id == viewer_id)
    elif filters.assignee == "unassigned":
        query = query.where(Case.assignee_id.is_(None))
    return query


def _report_facts(session: Session, case_ids: Select[int]) -> tuple[set[int], set[int], set[int]]:
    threat: set[int] = set()
    under_18: set[int] = set()
    unsure: set[int] = set()
    rows = session.execute(
        select(Report.case_id, Report.age_group, Report.situation)
        .where(Report.case_id.in_(case_ids))
        .distinct()
    )
    for case_id, age_group, situation in rows:
        if Situation(situation).is_threat:
            threat.add(case_id)
        if age_group == AgeGroup.UNDER_18:
            under_18.add(case_id)
        elif age_group == AgeGroup.UNSURE:
            unsure.add(case_id)
    return threat, under_18, unsure


def _items(
    session: Session, case_ids: Select[int]
) -> dict[int, list[tuple[int, str | None, str | None]]]:
    """case id -> [(item id, url, platform label)] for the items not withdrawn."""
    found: dict[int, list[tuple[int, str | None, str | None]]] = defaultdict(list)
    rows = session.execute(
        select(Item.id, Item.case_id, Item.url, Platform.name)
        .outerjoin(Page, Page.id == Item.page_id)
        .outerjoin(Platform, Platform.id == Page.platform_id)
        .where(Item.case_id.in_(case_ids), Item.withdrawn_at.is_(None))
    )
    for item_id, case_id, url, platform in rows:
        found[case_id].append((item_id, url, platform_label(url, platform)))
    return found


def _live_items(session: Session, case_ids: Select[int]) -> set[int]:
    rows = session.scalars(
        select(QuarantinedMedia.item_id)
        .join(Item, Item.id == QuarantinedMedia.item_id)
        .where(Item.case_id.in_(case_ids))
        .distinct()
    )
    return set(rows)


def _matched_items(
    session: Session, case_ids: Select[int], matcher: MatchEngine, max_distance: int
) -> set[int]:
    """Undecided items showing media whose hashes are in a verified bank (one engine
    call)."""
    rows = session.execute(
        select(Item.id, SignalRow.type, SignalRow.value)
        .join(Media, or_(Media.page_id == Item.page_id, Media.item_id == Item.id))
        .join(MediaSignal, MediaSignal.media_id == Media.id)
        .join(SignalRow, SignalRow.id == MediaSignal.signal_id)
        .where(
            Item.case_id.in_(case_ids),
            Item.withdrawn_at.is_(None),
            or_(
                Item.classification.is_(None),
                Item.classification == Classification.NEEDS_INFORMATION,
            ),
        )
    ).all()
    return matched_item_ids(
        session,
        [(item_id, Signal(SignalType(t), v)) for item_id, t, v in rows],
        matcher,
        max_distance,
    )


def matched_item_ids(
    session: Session,
    item_signals: Sequence[tuple[int, Signal]],
    matcher: MatchEngine,
    max_distance: int,
) -> set[int]:
    if not item_signals:
        return set()
    matches = matcher.match(
        session, [signal for _item, signal in item_signals], max_distance=max_distance
    )
    return {item_signals[match.query_index][0] for match in matches if match.verified}


def user_names(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """user id -> display name, in one query."""
    ids = list(user_ids)
    if not ids:
        return {}
    query = select(User.id, User.display_name).where(User.id.in_(ids))
    return {user_id: name for user_id, name in session.execute(query)}  # noqa: C416
