"""Reading the audit trail: filtering by case or by person, paging, and export rows.

Events name what they are about through their target: a case, one of its items or
reports, a user.  Filtering by case therefore finds the case's own events and those of
its items and reports; filtering by person finds what they did and what was done to
their account.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts.models import User
from reclaim.accounts.users import find_user
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import InvalidCaseNumberError, parse_case_number
from reclaim.cases.models import Case, Item, Report
from reclaim.oversight.domain import TrailFilter

PAGE_SIZE = 50
EXPORT_BATCH = 1000


def resolve_filter(
    session: Session, *, case_number: str = "", user_email: str = "", tag: str = ""
) -> TrailFilter:
    case_number, user_email, tag = case_number.strip(), user_email.strip(), tag.strip()
    unknown = []
    case_id = user_id = None
    if case_number:
        try:
            number = parse_case_number(case_number)
        except InvalidCaseNumberError:
            number = case_number.upper()
        case_id = session.scalar(select(Case.id).where(Case.number == number))
        if case_id is None:
            unknown.append("case")
    if user_email:
        user = find_user(session, user_email)
        user_id = user.id if user else None
        if user is None:
            unknown.append("user")
    if tag and tag not in {t.value for t in AuditTag}:
        unknown.append("tag")
    return TrailFilter(case_number, user_email, tag, case_id, user_id, tuple(unknown))


def _conditions(trail: TrailFilter) -> list[ColumnElement[bool]]:
    if trail.unknown:
        return [false()]
    conditions: list[ColumnElement[bool]] = []
    if trail.case_id is not None:
        items = select(Item.id).where(Item.case_id == trail.case_id).scalar_subquery()
        reports = select(Report.id).where(Report.case_id == trail.case_id).scalar_subquery()
        conditions.append(
            or_(
                and_(AuditEvent.target_type == "case", AuditEvent.target_id == trail.case_id),
                and_(AuditEvent.target_type == "item", AuditEvent.target_id.in_(items)),
                and_(AuditEvent.target_type == "report", AuditEvent.target_id.in_(reports)),
            )
        )
    if trail.user_id is not None:
        conditions.append(
            or_(
                and_(AuditEvent.actor_type == "user", AuditEvent.actor_id == trail.user_id),
                and_(AuditEvent.target_type == "user", AuditEvent.target_id == trail.user_id),
            )
        )
    if trail.tag:
        conditions.append(AuditEvent.tag == trail.tag)
    return conditions


@dataclass(frozen=True, slots=True)
class TrailPage:
    events: Sequence[AuditEvent]
    total: int
    page: int
    pages: int


def search(session: Session, trail: TrailFilter, *, page: int = 1) -> TrailPage:
    """One page of matching events, newest first."""
    conditions = _conditions(trail)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    events = session.scalars(
        select(AuditEvent)
        .where(*conditions)
        .order_by(AuditEvent.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return TrailPage(events, int(total), page, pages)


def count(session: Session, trail: TrailFilter, *, up_to: int) -> int:
    conditions = _conditions(trail)
    total = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= up_to, *conditions)
    )
    return int(total or 0)


def last_id(session: Session) -> int:
    return session.scalar(select(func.max(AuditEvent.id))) or 0


def batch_after(
    session: Session, trail: TrailFilter, *, after: int, up_to: int, size: int = EXPORT_BATCH
) -> list[AuditEvent]:
    """The next matching events in chain order (an export pages through with these)."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.id > after, AuditEvent.id <= up_to, *_conditions(trail))
            .order_by(AuditEvent.id)
            .limit(size)
        )
    )


@dataclass(frozen=True, slots=True)
class Labels:
    """Readable names for the ids in some events: emails for users, numbers for cases."""

    users: dict[int, str] = field(default_factory=dict)
    cases: dict[int, str] = field(default_factory=dict)
    item_cases: dict[int, str] = field(default_factory=dict)
    report_cases: dict[int, str] = field(default_factory=dict)

    def actor(self, event: AuditEvent) -> str:
        if event.actor_type == "user" and event.actor_id is not None:
            return self.users.get(event.actor_id, f"user {event.actor_id}")
        return event.actor_type

    def target(self, event: AuditEvent) -> str:
        kind, key = event.target_type, event.target_id
        if kind is None or key is None:
            return ""
        names = {
            "user": self.users,
            "case": self.cases,
            "item": self.item_cases,
            "report": self.report_cases,
        }.get(kind, {})
        label = names.get(key)
        if label and kind in {"item", "report"}:
            return f"{label} · {kind} {key}"
        return label or f"{kind} {key}"

    def case_number(self, event: AuditEvent) -> str | None:
        """The case an event is about, for linking to its page."""
        kind, key = event.target_type, event.target_id
        if key is None:
            return None
        source = {"case": self.cases, "item": self.item_cases, "report": self.report_cases}
        return source.get(kind or "", {}).get(key)


def labels_for(session: Session, events: Sequence[AuditEvent]) -> Labels:
    def ids(kind: str) -> set[int]:
        found = {e.target_id for e in events if e.target_type == kind and e.target_id is not None}
        if kind == "user":
            found |= {e.actor_id for e in events if e.actor_type == "user" and e.actor_id}
        return found

    labels = Labels()
    if user_ids := ids("user"):
        rows = session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
        labels.users.update((row[0], row[1]) for row in rows)
    if case_ids := ids("case"):
        rows = session.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids)))
        labels.cases.update((row[0], row[1]) for row in rows)
    for kind, model, target in (
        ("item", Item, labels.item_cases),
        ("report", Report, labels.report_cases),
    ):
        if wanted := ids(kind):
            rows = session.execute(
                select(model.id, Case.number)
                .join(Case, Case.id == model.case_id)
                .where(model.id.in_(wanted))
            )
            target.update((row[0], row[1]) for row in rows)
    return labels


EXPORT_FIELDS = (
    "id",
    "created_at",
    "tag",
    "actor_type",
    "actor_id",
    "actor",
    "target_type",
    "target_id",
    "target",
    "details",
    "prev_hash",
    "row_hash",
)


def export_row(event: AuditEvent, labels: Labels, *, case_content: bool = True) -> dict[str, Any]:
    """One event as exported: the stored fields (hashes included, so a reader can
    re-check the chain) plus readable names for actor and target."""
    return {
        "id": event.id,
        "created_at": event.created_at.isoformat(timespec="microseconds"),
        "tag": event.tag,
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "actor": labels.actor(event),
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target": labels.target(event),
        "details": visible_details(event, case_content=case_content),
        "prev_hash": event.prev_hash,
        "row_hash": event.row_hash,
    }


#: What admins (who see no case content) read of an event's details: in full for these
#: sources, which are about accounts, settings, partners and directories; for every
#: other event only that details were withheld (the target still names the case by
#: its reference, so an admin can follow a case's trail without reading its content).
ADMIN_READABLE = (
    "account:",
    "audit:",
    "system:settings:",
    "system:demo:",
    "partner:partner:",
    "partner:key:",
    "takedown:platform:",
    "referral:agency:",
    "referral:member:",
)
WITHHELD = {"withheld": "case content"}


def visible_details(event: AuditEvent, *, case_content: bool) -> dict[str, Any]:
    """The details a reader may see: everything, or for admins nothing of a case."""
    if case_content or event.tag.startswith(ADMIN_READABLE):
        return event.details
    return WITHHELD if event.details else {}


def details_text(details: dict[str, Any]) -> str:
    return json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def export_batches(
    session_factory: Callable[[], Session],
    trail: TrailFilter,
    *,
    up_to: int,
    case_content: bool = True,
) -> Iterator[list[dict[str, Any]]]:
    """Every matching event up to ``up_to``, a batch per short transaction.

    Each batch reads in its own session so that a slow download never holds a
    transaction open (on SQLite every transaction holds the write lock).
    """
    after = 0
    while True:
        with session_factory() as session:
            events = batch_after(session, trail, after=after, up_to=up_to)
            if not events:
                return
            labels = labels_for(session, events)
            rows = [export_row(event, labels, case_content=case_content) for event in events]
        yield rows
        after = events[-1].id


def record_view(session: Session, trail: TrailFilter, page: int, *, viewer_id: int) -> None:
    """Reading the trail is itself audited: who looked, filtered how."""
    audit.record(
        session,
        AuditTag.AUDIT_VIEWED,
        actor=audit.Actor.user(viewer_id),
        details={**trail.as_details(), "page": page},
    )


def start_export(session: Session, trail: TrailFilter, fmt: str, *, viewer_id: int) -> int:
    """Record an export before its first byte and fix its extent: rows up to the id
    returned (events written during the download are not part of it)."""
    up_to = last_id(session)
    rows = count(session, trail, up_to=up_to)
    audit.record(
        session,
        AuditTag.AUDIT_EXPORTED,
        actor=audit.Actor.user(viewer_id),
        details={**trail.as_details(), "format": fmt, "rows": rows, "up_to": up_to},
    )
    return up_to
