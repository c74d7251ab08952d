"""One case as analysts see it: what it holds, what happened, and what it is linked to.

:func:`load_case_view` gathers a case's reports, items with their signals, bank
matches, quarantined media and decisions, notes, linked cases and timeline in a fixed
number of queries.  Looking at a case is audited (:func:`record_view`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from reclaim import audit
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.audit.models import AuditEvent
from reclaim.banks.domain import CONFIRMED_BANK
from reclaim.banks.engine import MatchEngine
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases import decisions
from reclaim.cases.domain import (
    CASE_MACHINE,
    CaseStatus,
    DecisionStatus,
    ItemKind,
)
from reclaim.cases.models import (
    Case,
    CaseNote,
    Decision,
    Item,
    ItemSignal,
    QuarantinedMedia,
    Report,
)
from reclaim.cases.triage import platform_label, user_names
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.signals import Signal, SignalType
from reclaim.platforms.models import Platform
from reclaim.security.field_crypto import FieldCipher, FieldDecryptionError, Purpose

#: Events the timeline leaves out: looking at a case is not something that happened to
#: it (the audit trail keeps every view).
_NOT_IN_TIMELINE = (AuditTag.CASE_VIEWED.value, AuditTag.QUEUE_VIEWED.value)


@dataclass(frozen=True, slots=True)
class ReportView:
    report: Report
    contact: str | None  # decrypted, or None when there is none or it is hidden
    contact_hidden: bool  # the viewer's role may not see contacts
    contact_unreadable: bool = False


@dataclass(frozen=True, slots=True)
class ItemMatch:
    """A bank entry one of the item's signals matched."""

    bank: str
    signal: Signal  # the item's signal that matched
    distance: int
    verified: bool

    @property
    def no_need_to_view(self) -> bool:
        return self.bank == CONFIRMED_BANK


@dataclass(slots=True)
class ItemView:
    item: Item
    platform: str | None
    signals: list[tuple[Signal, int | None]] = field(default_factory=list)
    matches: list[ItemMatch] = field(default_factory=list)
    media: list[QuarantinedMedia] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    last_fetch: AuditEvent | None = None

    @property
    def in_force(self) -> Decision | None:
        return next((d for d in self.decisions if d.status is DecisionStatus.RECORDED), None)

    @property
    def awaiting(self) -> Decision | None:
        return next((d for d in self.decisions if d.status is DecisionStatus.AWAITING_SECOND), None)

    @property
    def confirmed_match(self) -> ItemMatch | None:
        return closest_confirmed(self.item, self.matches)

    @property
    def is_url(self) -> bool:
        return self.item.kind is ItemKind.URL


@dataclass(frozen=True, slots=True)
class NoteView:
    note: CaseNote
    body: str | None  # None: could not be decrypted


@dataclass(frozen=True, slots=True)
class LinkedCase:
    number: str
    status: CaseStatus
    shared_signals: int
    shared_urls: int


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    event: AuditEvent
    actor_name: str | None

    @property
    def tag(self) -> str:
        return self.event.tag

    @property
    def details(self) -> dict[str, Any]:
        return self.event.details or {}


@dataclass(slots=True)
class CaseView:
    case: Case
    reports: list[ReportView]
    items: list[ItemView]
    notes: list[NoteView]
    linked: list[LinkedCase]
    timeline: list[TimelineEntry]
    assignee: User | None
    next_statuses: list[CaseStatus]


def load_case_view(
    session: Session,
    case: Case,
    *,
    cipher: FieldCipher,
    matcher: MatchEngine,
    max_distance: int,
    show_contact: bool,
) -> CaseView:
    reports = [_report_view(r, cipher, show_contact) for r in case.reports]
    items = _item_views(session, case, matcher, max_distance)
    timeline = case_timeline(session, case, [view.item.id for view in items])
    fetches = {AuditTag.ITEM_FETCHED.value, AuditTag.ITEM_FETCH_FAILED.value}
    by_item = {view.item.id: view for view in items}
    for entry in timeline:  # newest first: the first fetch event per item is the last
        event = entry.event
        if event.tag in fetches and event.target_type == "item" and event.target_id in by_item:
            view = by_item[event.target_id]
            view.last_fetch = view.last_fetch or event
    return CaseView(
        case=case,
        reports=reports,
        items=items,
        notes=_notes(session, case, cipher),
        linked=linked_cases(session, case),
        timeline=timeline,
        assignee=session.get(User, case.assignee_id) if case.assignee_id else None,
        next_statuses=sorted(CASE_MACHINE.transitions[case.status], key=list(CaseStatus).index),
    )


def _report_view(report: Report, cipher: FieldCipher, show_contact: bool) -> ReportView:
    if report.contact is None:
        return ReportView(report, None, contact_hidden=False)
    if not show_contact:
        return ReportView(report, None, contact_hidden=True)
    try:
        return ReportView(
            report, cipher.decrypt(report.contact, purpose=Purpose.REPORT_CONTACT), False
        )
    except FieldDecryptionError:
        return ReportView(report, None, contact_hidden=False, contact_unreadable=True)


def _item_views(
    session: Session, case: Case, matcher: MatchEngine, max_distance: int
) -> list[ItemView]:
    rows = session.execute(
        select(Item, Platform.name)
        .outerjoin(Platform, Platform.id == Item.platform_id)
        .where(Item.case_id == case.id)
        .order_by(Item.id)
    ).all()
    views = [ItemView(item, platform_label(item.url, name)) for item, name in rows]
    by_id = {view.item.id: view for view in views}
    if not views:
        return views
    signal_rows = session.execute(
        select(ItemSignal.item_id, SignalRow.type, SignalRow.value, ItemSignal.quality)
        .join(SignalRow, SignalRow.id == ItemSignal.signal_id)
        .join(Item, Item.id == ItemSignal.item_id)
        .where(Item.case_id == case.id)
        .order_by(ItemSignal.item_id, SignalRow.type, SignalRow.value)
    ).all()
    queries: list[tuple[int, Signal]] = []
    for item_id, kind, value, quality in signal_rows:
        signal = Signal(SignalType(kind), value)
        by_id[item_id].signals.append((signal, quality))
        queries.append((item_id, signal))
    if queries:
        found = matcher.match(session, [s for _i, s in queries], max_distance=max_distance)
        for match in found:
            item_id, signal = queries[match.query_index]
            by_id[item_id].matches.append(
                ItemMatch(match.bank, signal, match.distance, match.verified)
            )
    media = session.scalars(
        select(QuarantinedMedia)
        .join(Item, Item.id == QuarantinedMedia.item_id)
        .where(Item.case_id == case.id)
        .order_by(QuarantinedMedia.id)
    )
    for record in media:
        by_id[record.item_id].media.append(record)
    for item_id, item_decisions in decisions.history(session, list(by_id)).items():
        by_id[item_id].decisions = item_decisions
    for view in views:
        view.matches.sort(key=lambda m: (not m.no_need_to_view, m.distance, m.bank))
    return views


def closest_confirmed(item: Item, matches: Sequence[ItemMatch]) -> ItemMatch | None:
    """The closest match in the `confirmed` bank, unless the item is itself confirmed
    (its own banked signals match it, which says nothing new)."""
    if item.classification is not None and item.classification.is_confirming:
        return None
    confirmed = [m for m in matches if m.no_need_to_view]
    return min(confirmed, key=lambda m: m.distance) if confirmed else None


def item_matches(
    session: Session, item: Item, *, matcher: MatchEngine, max_distance: int
) -> list[ItemMatch]:
    """Bank matches of one item's signals, confirmed bank first, closest first."""
    signals = [
        Signal(SignalType(kind), value)
        for kind, value in session.execute(
            select(SignalRow.type, SignalRow.value)
            .join(ItemSignal, ItemSignal.signal_id == SignalRow.id)
            .where(ItemSignal.item_id == item.id)
        )
    ]
    if not signals:
        return []
    found = [
        ItemMatch(m.bank, signals[m.query_index], m.distance, m.verified)
        for m in matcher.match(session, signals, max_distance=max_distance)
    ]
    return sorted(found, key=lambda m: (not m.no_need_to_view, m.distance, m.bank))


def _notes(session: Session, case: Case, cipher: FieldCipher) -> list[NoteView]:
    notes = session.scalars(
        select(CaseNote)
        .where(CaseNote.case_id == case.id)
        .options(selectinload(CaseNote.author))
        .order_by(CaseNote.id)
    )
    views = []
    for note in notes:
        try:
            body: str | None = cipher.decrypt(note.body, purpose=Purpose.CASE_NOTE)
        except FieldDecryptionError:
            body = None
        views.append(NoteView(note, body))
    return views


def case_timeline(session: Session, case: Case, item_ids: Sequence[int]) -> list[TimelineEntry]:
    """Audit events about the case, its reports and its items, newest first."""
    report_ids = [report.id for report in case.reports]
    targets = [and_(AuditEvent.target_type == "case", AuditEvent.target_id == case.id)]
    if item_ids:
        targets.append(and_(AuditEvent.target_type == "item", AuditEvent.target_id.in_(item_ids)))
    if report_ids:
        targets.append(
            and_(AuditEvent.target_type == "report", AuditEvent.target_id.in_(report_ids))
        )
    events = list(
        session.scalars(
            select(AuditEvent)
            .where(or_(*targets), AuditEvent.tag.not_in(_NOT_IN_TIMELINE))
            .order_by(AuditEvent.id.desc())
        )
    )
    names = user_names(
        session, {e.actor_id for e in events if e.actor_type == "user" and e.actor_id}
    )
    return [
        TimelineEntry(e, names.get(e.actor_id) if e.actor_type == "user" and e.actor_id else None)
        for e in events
    ]


def linked_cases(session: Session, case: Case) -> list[LinkedCase]:
    """Other cases with an item that shares a signal or a URL with this case's items."""
    mine = select(Item.id).where(Item.case_id == case.id)
    my_signals = select(ItemSignal.signal_id).where(ItemSignal.item_id.in_(mine))
    my_urls = select(Item.url).where(Item.case_id == case.id, Item.url.is_not(None))
    shared_signals: dict[int, set[int]] = defaultdict(set)
    for case_id, signal_id in session.execute(
        select(Item.case_id, ItemSignal.signal_id)
        .join(ItemSignal, ItemSignal.item_id == Item.id)
        .where(Item.case_id != case.id, ItemSignal.signal_id.in_(my_signals))
    ):
        shared_signals[case_id].add(signal_id)
    shared_urls: dict[int, set[str]] = defaultdict(set)
    for case_id, url in session.execute(
        select(Item.case_id, Item.url).where(Item.case_id != case.id, Item.url.in_(my_urls))
    ):
        if url is not None:
            shared_urls[case_id].add(url)
    ids = set(shared_signals) | set(shared_urls)
    if not ids:
        return []
    cases = session.execute(
        select(Case.id, Case.number, Case.status).where(Case.id.in_(ids)).order_by(Case.id)
    )
    return [
        LinkedCase(number, CaseStatus(status), len(shared_signals[cid]), len(shared_urls[cid]))
        for cid, number, status in cases
    ]


def record_view(
    session: Session, case: Case, *, viewer_id: int, clock: Clock = system_clock
) -> None:
    audit.record(
        session,
        AuditTag.CASE_VIEWED,
        actor=audit.Actor.user(viewer_id),
        target=(TargetKind.CASE, case.id),
        clock=clock,
    )
