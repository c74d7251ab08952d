"""A case as its reporter sees and changes it (after "check my case").

The reporter sees a timeline in plain steps and their own items; nothing internal
(analysts' notes, decisions, platform correspondence) ever leaves this module.  They
can withdraw items, and change or remove their contact.

Withdrawing a file withdraws its hashes from the self-reported bank: the entries stay
as tombstones, so partners following the hash feed drop them too.  A hash is kept
when another live file item, in this case or another, holds it too: it is still
another report's hash, which that reporter has not withdrawn.  Entries in other banks
(an analyst's confirmation, an imported list) are not the reporter's to withdraw.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind, AuditTag, TargetKind
from reclaim.audit.models import AuditEvent
from reclaim.banks import banking
from reclaim.banks.domain import EntrySource
from reclaim.banks.models import BankEntry
from reclaim.cases import status
from reclaim.cases.domain import CaseStatus, ItemKind
from reclaim.cases.models import Case, Item, Media, MediaSignal
from reclaim.domain.clock import Clock, system_clock
from reclaim.intake.submission import reporter, self_reported_bank
from reclaim.security.field_crypto import FieldCipher, FieldDecryptionError, Purpose
from reclaim.takedown.progress import CaseProgress

# --- the timeline --------------------------------------------------------------------


class Step(enum.Enum):
    RECEIVED = "received"
    IN_REVIEW = "in_review"
    NOTICES_SENT = "notices_sent"
    REMOVED = "removed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class TimelineStep:
    step: Step
    at: datetime | None = None
    count: int | None = None
    total: int | None = None
    closed_as: CaseStatus | None = None


#: Statuses only a person at the hotline can have moved a case to.
_DECIDED = frozenset(
    {
        CaseStatus.ACTIONED,
        CaseStatus.AWAITING_REMOVAL,
        CaseStatus.RESOLVED,
        CaseStatus.NOT_ACTIONABLE,
    }
)


def timeline(
    case: Case, progress: CaseProgress, *, staff_looked: bool = False
) -> list[TimelineStep]:
    """What has happened so far, oldest first; only steps that happened are listed.

    ``progress`` is :func:`reclaim.takedown.progress.case_progress` (removal
    requests that went out, and how many of the items asked about are gone);
    ``staff_looked`` is :func:`staff_has_looked`.  "In review" alone does not mean
    anyone looked: a reporter adding items to a closed case reopens it for review."""
    steps = [TimelineStep(Step.RECEIVED, at=case.created_at)]
    # A withdrawn case may never have been looked at; its last step says what happened.
    if case.status in _DECIDED or (case.status is CaseStatus.IN_REVIEW and staff_looked):
        steps.append(TimelineStep(Step.IN_REVIEW))
    if progress.sites:
        steps.append(TimelineStep(Step.NOTICES_SENT, count=progress.sites))
    if progress.items:
        steps.append(TimelineStep(Step.REMOVED, count=progress.removed, total=progress.items))
    if not case.status.is_open:
        steps.append(TimelineStep(Step.CLOSED, at=case.updated_at, closed_as=case.status))
    return steps


def staff_has_looked(session: Session, case: Case) -> bool:
    """Whether anyone at the hotline has done anything with the case (the audit trail
    records every staff view and change of a case)."""
    found = session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.target_type == TargetKind.CASE,
            AuditEvent.target_id == case.id,
            AuditEvent.actor_type == ActorKind.USER,
        )
        .limit(1)
    )
    return found is not None


# --- withdrawal ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Withdrawal:
    items: int
    tombstones: int
    case_withdrawn: bool


def withdraw_items(
    session: Session,
    case: Case,
    item_ids: Collection[int] | None,
    *,
    clock: Clock = system_clock,
) -> Withdrawal:
    """Withdraw some of the case's live items (all of them when ``item_ids`` is None).

    Ids that are not the case's live items are ignored, so a retried form changes
    nothing more.
    """
    chosen = [
        item
        for item in case.items
        if item.withdrawn_at is None and (item_ids is None or item.id in item_ids)
    ]
    if not chosen:
        return Withdrawal(0, 0, case_withdrawn=False)
    now = clock()
    for item in chosen:
        item.withdrawn_at = now
        audit.record(
            session,
            AuditTag.REPORT_ITEM_WITHDRAWN,
            actor=reporter(case),
            target=(TargetKind.CASE, case.id),
            details={"item": item.id, "kind": item.kind.value},
            clock=clock,
        )
    session.flush()
    signal_ids = {
        link.signal_id
        for item in chosen
        if item.kind is ItemKind.FILE
        for media in item.device_media
        for link in media.signals
    }
    tombstones = _tombstone(session, case, signal_ids, clock)
    case.updated_at = now
    case_withdrawn = False
    if all(item.withdrawn_at is not None for item in case.items) and status.can_move(
        case, CaseStatus.WITHDRAWN
    ):
        status.move(
            session,
            case,
            CaseStatus.WITHDRAWN,
            actor=reporter(case),
            why="reporter withdrew",
            clock=clock,
        )
        case_withdrawn = True
    session.flush()
    return Withdrawal(len(chosen), tombstones, case_withdrawn)


def _tombstone(session: Session, case: Case, signal_ids: set[int], clock: Clock) -> int:
    if not signal_ids:
        return 0
    held_elsewhere = set(
        session.scalars(
            select(MediaSignal.signal_id)
            .join(Media, Media.id == MediaSignal.media_id)
            .join(Item, Item.id == Media.item_id)
            .where(
                MediaSignal.signal_id.in_(signal_ids),
                Item.kind == ItemKind.FILE,
                Item.withdrawn_at.is_(None),
            )
        )
    )
    bank = self_reported_bank(session)
    entry_ids = list(
        session.scalars(
            select(BankEntry.id).where(
                BankEntry.bank_id == bank.id,
                BankEntry.signal_id.in_(signal_ids - held_elsewhere),
                BankEntry.source == EntrySource.REPORT,
                BankEntry.withdrawn_at.is_(None),
            )
        )
    )
    withdrawn = banking.withdraw_entries(
        session, entry_ids, reason="withdrawn by the reporter", clock=clock
    )
    if withdrawn:
        audit.record(
            session,
            AuditTag.SIGNAL_WITHDRAWN,
            actor=reporter(case),
            target=(TargetKind.BANK, bank.id),
            details={
                "case": case.number,
                "withdrawn": len(withdrawn),
                "kept_for_other_reports": len(signal_ids & held_elsewhere),
            },
            clock=clock,
        )
    return len(withdrawn)


# --- contact -------------------------------------------------------------------------


def current_contact(case: Case, cipher: FieldCipher) -> str | None:
    """The contact the reporter left (the newest report's), decrypted."""
    for report in reversed(case.reports):
        if report.contact:
            try:
                return cipher.decrypt(report.contact, purpose=Purpose.REPORT_CONTACT)
            except FieldDecryptionError:
                return None
    return None


def change_contact(
    session: Session,
    case: Case,
    contact: str | None,
    *,
    cipher: FieldCipher,
    clock: Clock = system_clock,
) -> None:
    """Replace (or, with None, remove) the contact on every report of the case."""
    for report in case.reports:
        report.contact = (
            cipher.encrypt(contact, purpose=Purpose.REPORT_CONTACT) if contact else None
        )
        report.contact_consent = contact is not None
    case.updated_at = clock()
    audit.record(
        session,
        AuditTag.REPORT_CONTACT_CHANGED,
        actor=reporter(case),
        target=(TargetKind.CASE, case.id),
        details={"removed": contact is None},
        clock=clock,
    )
    session.flush()


def mask_contact(contact: str) -> str:
    """Enough of a contact to recognise it, not enough to read it over a shoulder."""
    if "@" in contact:
        name, _at, domain = contact.partition("@")
        return f"{name[:1]}{'•' * max(1, len(name) - 1)}@{domain}"
    digits = [i for i, c in enumerate(contact) if c.isdigit()]
    keep = set(digits[-3:])
    return "".join(c if (not c.isdigit() or i in keep) else "•" for i, c in enumerate(contact))
