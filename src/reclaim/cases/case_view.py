"""One case as analysts see it: what it holds and what happened.

:func:`load_case_view` gathers a case's reports, its items with their media (each
with its hashes, bank matches, quarantined copy and trust: ``media_view``), decisions,
how other cases decided the same pages, notes and timeline in a fixed number of
queries.  Links to other cases (by offender identifier, picture, page, site or threat
script) are the linkage feature's: ``linkage/case_links.py``.  Looking at a case is
audited (:func:`record_view`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from reclaim import audit
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.audit.models import AuditEvent
from reclaim.banks.engine import MatchEngine
from reclaim.cases import decisions
from reclaim.cases.domain import (
    CASE_MACHINE,
    CaseStatus,
    Classification,
    DecisionStatus,
    ItemKind,
)
from reclaim.cases.media_view import MediaView, media_views
from reclaim.cases.models import (
    Case,
    CaseNote,
    Decision,
    Item,
    Page,
    Report,
)
from reclaim.cases.triage import platform_label, user_names
from reclaim.domain.clock import Clock, system_clock
from reclaim.matching.video import VideoRule
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
    description: str | None = None  # decrypted
    threat_account: str | None = None  # decrypted: who threatens the reporter


def report_description(report: Report, cipher: FieldCipher) -> str | None:
    """The reporter's words, decrypted; reports from before descriptions were encrypted
    hold them as they were typed."""
    if report.description is None:
        return None
    try:
        return cipher.decrypt(report.description, purpose=Purpose.REPORT_DESCRIPTION)
    except FieldDecryptionError:
        return report.description


@dataclass(frozen=True, slots=True)
class PageDecision:
    """How another case decided the same page (a conflict when it differs)."""

    case_number: str
    classification: Classification


@dataclass(slots=True)
class ItemView:
    item: Item
    platform: str | None
    media: list[MediaView] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    last_fetch: AuditEvent | None = None
    elsewhere: list[PageDecision] = field(default_factory=list)  # the page in other cases

    @property
    def in_force(self) -> Decision | None:
        return next((d for d in self.decisions if d.status is DecisionStatus.RECORDED), None)

    @property
    def awaiting(self) -> Decision | None:
        return next((d for d in self.decisions if d.status is DecisionStatus.AWAITING_SECOND), None)

    @property
    def is_url(self) -> bool:
        return self.item.kind is ItemKind.URL

    @property
    def conflicts(self) -> list[PageDecision]:
        """Other cases that decided this page differently (a supervisor settles it before
        any notice goes out)."""
        mine = self.item.classification
        if mine is None:
            return []
        return [d for d in self.elsewhere if conflicting(mine, d.classification)]


def conflicting(first: Classification, second: Classification) -> bool:
    """Two decisions on one page conflict when they call for different treatment by the
    platform (a minor's image against an adult's, content against nothing)."""
    if first is second:
        return False
    removal = (first.calls_for_removal, second.calls_for_removal)
    if removal == (False, False):
        return False
    return first.involves_minor != second.involves_minor or removal != (True, True)


@dataclass(frozen=True, slots=True)
class NoteView:
    note: CaseNote
    body: str | None  # None: could not be decrypted


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
    video_rule: VideoRule | None = None,
) -> CaseView:
    reports = [_report_view(r, cipher, show_contact) for r in case.reports]
    items = _item_views(session, case, matcher, max_distance, video_rule)
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
        timeline=timeline,
        assignee=session.get(User, case.assignee_id) if case.assignee_id else None,
        next_statuses=sorted(CASE_MACHINE.transitions[case.status], key=list(CaseStatus).index),
    )


def _report_view(report: Report, cipher: FieldCipher, show_contact: bool) -> ReportView:
    view = ReportView(
        report,
        None,
        contact_hidden=report.contact is not None and not show_contact,
        description=report_description(report, cipher),
        threat_account=_threat_account(report, cipher),
    )
    if report.contact is None or not show_contact:
        return view
    try:
        contact = cipher.decrypt(report.contact, purpose=Purpose.REPORT_CONTACT)
    except FieldDecryptionError:
        return replace(view, contact_unreadable=True)
    return replace(view, contact=contact)


def _threat_account(report: Report, cipher: FieldCipher) -> str | None:
    if report.threat_account is None:
        return None
    try:
        return cipher.decrypt(report.threat_account, purpose=Purpose.REPORT_THREAT_ACCOUNT)
    except FieldDecryptionError:
        return None


def _item_views(
    session: Session,
    case: Case,
    matcher: MatchEngine,
    max_distance: int,
    video_rule: VideoRule | None = None,
) -> list[ItemView]:
    rows = session.execute(
        select(Item, Platform.name)
        .outerjoin(Page, Page.id == Item.page_id)
        .outerjoin(Platform, Platform.id == Page.platform_id)
        .where(Item.case_id == case.id)
        .order_by(Item.id)
    ).all()
    views = [ItemView(item, platform_label(item.url, name)) for item, name in rows]
    if not views:
        return views
    by_id = {view.item.id: view for view in views}
    for item_id, item_decisions in decisions.history(session, list(by_id)).items():
        by_id[item_id].decisions = item_decisions
    media = media_views(
        session,
        [view.item for view in views],
        in_force={view.item.id: view.in_force for view in views},
        matcher=matcher,
        max_distance=max_distance,
        video_rule=video_rule,
    )
    for view in views:
        view.media = media.get(view.item.id, [])
    for item_id, elsewhere in _page_decisions_elsewhere(session, case).items():
        by_id[item_id].elsewhere = elsewhere
    return views


def _page_decisions_elsewhere(session: Session, case: Case) -> dict[int, list[PageDecision]]:
    """item id -> how other cases decided the same page (decisions in force)."""
    mine = aliased(Item)
    theirs = aliased(Item)
    rows = session.execute(
        select(mine.id, Case.number, theirs.classification)
        .join(theirs, and_(theirs.page_id == mine.page_id, theirs.case_id != mine.case_id))
        .join(Case, Case.id == theirs.case_id)
        .where(
            mine.case_id == case.id,
            mine.page_id.is_not(None),
            theirs.classification.is_not(None),
            theirs.withdrawn_at.is_(None),
        )
        .order_by(Case.number)
    )
    found: dict[int, list[PageDecision]] = defaultdict(list)
    for item_id, number, classification in rows:
        if classification is not None:
            found[item_id].append(PageDecision(number, classification))
    return found


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
