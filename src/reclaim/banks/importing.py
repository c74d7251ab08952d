"""Importing a bank file: batches, line-numbered errors, idempotence, --strict."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks.banking import AddOutcome, NewEntry, add_signals, get_bank
from reclaim.banks.domain import Category, EntrySource
from reclaim.banks.formats import BankFormat, Defaults, LineError, read_entries
from reclaim.domain.clock import Clock, system_clock

Progress = Callable[[int], None]  # called with the number of lines read so far
BATCH = 10_000
MAX_REPORTED_ERRORS = 1000


@dataclass(slots=True)
class ImportReport:
    lines: int = 0
    outcome: AddOutcome = field(default_factory=AddOutcome)
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    imported: bool = True

    def note(self, error: LineError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)


def import_file(
    sessions: sessionmaker[Session],
    *,
    bank_name: str,
    path: Path,
    file_format: BankFormat,
    strict: bool,
    min_pdq_quality: int,
    actor: audit.Actor,
    progress: Progress | None = None,
    clock: Clock = system_clock,
) -> ImportReport:
    """Import `path` into the bank.

    Without `strict`, good lines are imported in committed batches and bad lines are
    reported by number.  With `strict`, the file is checked first and nothing is
    imported if any line is bad; then it is imported in one transaction.
    """
    report = ImportReport()
    with sessions.begin() as session:
        bank = get_bank(session, bank_name)  # fail before reading a million lines
        # A line that does not say is what the bank holds (verified, of its category).
        defaults = Defaults(bank.verified, bank.category or Category.UNKNOWN)
    if strict:
        with path.open(encoding="utf-8", newline="") as stream:
            for _number, parsed in read_entries(stream, file_format, defaults=defaults):
                if isinstance(parsed, LineError):
                    report.note(parsed)
        if report.error_count:
            report.imported = False
            return report
    source_ref = f"import:{path.name}"
    with path.open(encoding="utf-8", newline="") as stream:
        batches = _batches(stream, file_format, defaults, report, progress)

        def add(session: Session, batch: list[NewEntry]) -> None:
            report.outcome.merge(
                add_signals(
                    session,
                    get_bank(session, bank_name),
                    batch,
                    source=EntrySource.IMPORT,
                    source_ref=source_ref,
                    min_pdq_quality=min_pdq_quality,
                    clock=clock,
                )
            )
            report.outcome.entry_ids.clear()  # not needed by callers; keeps memory flat

        if strict:  # one transaction: all or nothing
            with sessions.begin() as session:
                for batch in batches:
                    add(session, batch)
        else:  # one transaction per batch: a crash keeps what was done; re-run to finish
            for batch in batches:
                with sessions.begin() as session:
                    add(session, batch)
    report.outcome.entry_ids.clear()  # not needed by callers; keeps memory flat
    with sessions.begin() as session:
        bank = get_bank(session, bank_name)
        audit.record(
            session,
            AuditTag.BANK_IMPORTED,
            actor=actor,
            target=(TargetKind.BANK, bank.id),
            details={
                "file": path.name,
                "format": file_format.value,
                "lines": report.lines,
                "added": report.outcome.added,
                "reactivated": report.outcome.reactivated,
                "unchanged": report.outcome.unchanged,
                "rejected": len(report.outcome.rejected),
                "errors": report.error_count,
            },
            clock=clock,
        )
    return report


def _batches(
    stream: TextIO,
    file_format: BankFormat,
    defaults: Defaults,
    report: ImportReport,
    progress: Progress | None,
) -> Iterator[list[NewEntry]]:
    batch: list[NewEntry] = []
    for _number, parsed in read_entries(stream, file_format, defaults=defaults):
        report.lines += 1
        if isinstance(parsed, LineError):
            report.note(parsed)
        else:
            batch.append(parsed)
        if len(batch) >= BATCH:
            yield batch
            batch = []
            if progress:
                progress(report.lines)
    if batch:
        yield batch
    if progress:
        progress(report.lines)
