"""Changes to one case as analysts work it: finding it, assigning it, moving its
status (through ``status.move``), and notes.  Each change is audited in the caller's
transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts.domain import CASE_WORKERS
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases import status
from reclaim.cases.domain import (
    CaseStatus,
    InvalidCaseNumberError,
    parse_case_number,
)
from reclaim.cases.models import (
    Case,
    CaseNote,
)
from reclaim.domain.clock import Clock, system_clock
from reclaim.security.field_crypto import FieldCipher, Purpose

MAX_NOTE_CHARS = 5000


class CaseError(ValueError):
    """A change that cannot be made; ``code`` names the problem for the page."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def find_case(session: Session, number: str) -> Case | None:
    try:
        canonical = parse_case_number(number)
    except InvalidCaseNumberError:
        return None
    return session.scalar(select(Case).where(Case.number == canonical))


def assignable_staff(session: Session) -> list[User]:
    """Active analysts and supervisors, by name: who a case can be assigned to."""
    return list(
        session.scalars(
            select(User)
            .where(User.role.in_(CASE_WORKERS), User.is_active.is_(True))
            .order_by(User.display_name, User.id)
        )
    )


def assign(
    session: Session,
    case: Case,
    assignee: User,
    *,
    actor_id: int,
    clock: Clock = system_clock,
) -> None:
    """Give the case to ``assignee`` (claiming is assigning to oneself); audited."""
    if assignee.role not in CASE_WORKERS or not assignee.is_active:
        raise CaseError("not_assignable", "cases go to active analysts and supervisors only")
    previous = case.assignee_id
    case.assignee_id = assignee.id
    case.updated_at = clock()
    audit.record(
        session,
        AuditTag.CASE_ASSIGNED,
        actor=audit.Actor.user(actor_id),
        target=(TargetKind.CASE, case.id),
        details={"from": previous, "to": assignee.id, "to_name": assignee.display_name},
        clock=clock,
    )


def change_status(
    session: Session,
    case: Case,
    requested: CaseStatus,
    *,
    actor_id: int,
    clock: Clock = system_clock,
) -> None:
    """A staff member moves the case; IllegalTransitionError if not allowed."""
    status.move(session, case, requested, actor=audit.Actor.user(actor_id), clock=clock)


def add_note(
    session: Session,
    case: Case,
    body: str,
    *,
    author_id: int,
    cipher: FieldCipher,
    clock: Clock = system_clock,
) -> CaseNote:
    """An internal note, stored encrypted; the audit row records that, not what."""
    text = body.strip()
    if not text:
        raise CaseError("note_empty", "the note is empty")
    if len(text) > MAX_NOTE_CHARS:
        raise CaseError("note_too_long", f"a note is at most {MAX_NOTE_CHARS} characters")
    note = CaseNote(
        case_id=case.id,
        author_id=author_id,
        body=cipher.encrypt(text, purpose=Purpose.CASE_NOTE),
        created_at=clock(),
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        AuditTag.CASE_NOTE_ADDED,
        actor=audit.Actor.user(author_id),
        target=(TargetKind.CASE, case.id),
        details={"note": note.id},
        clock=clock,
    )
    return note
