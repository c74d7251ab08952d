"""Exporting a bank's active signals in one of the bank formats; audited."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks.contents import active_entries
from reclaim.banks.formats import BankFormat, write_entries
from reclaim.banks.models import Bank
from reclaim.domain.clock import Clock, system_clock


def export_entries(
    session: Session,
    bank: Bank,
    file_format: BankFormat,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> Iterator[str]:
    """Record the export, then stream the bank's active entries as text pieces."""
    audit.record(
        session,
        AuditTag.BANK_EXPORTED,
        actor=actor,
        target=(TargetKind.BANK, bank.id),
        details={"format": file_format.value},
        clock=clock,
    )
    return write_entries(active_entries(session, bank), file_format)
