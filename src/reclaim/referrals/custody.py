"""The custody log: every export, transfer, download and answer of a case's evidence,
hash-chained per case so a package's copy of it can be checked on its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.domain.clock import Clock, system_clock
from reclaim.referrals.domain import CUSTODY_GENESIS, CustodyAction, custody_digest
from reclaim.referrals.models import CustodyEntry


def entry_fields(entry: CustodyEntry) -> dict[str, Any]:
    """What is hashed (and what a package carries) for one entry."""
    return {
        "id": entry.id,
        "case": entry.case_id,
        "referral": entry.referral_id,
        "action": entry.action.value,
        "actor": entry.actor,
        "at": entry.at.isoformat(timespec="microseconds"),
        "details": entry.details,
    }


def log(session: Session, case_id: int) -> list[CustodyEntry]:
    return list(
        session.scalars(
            select(CustodyEntry).where(CustodyEntry.case_id == case_id).order_by(CustodyEntry.id)
        )
    )


def append(
    session: Session,
    case_id: int,
    action: CustodyAction,
    *,
    actor: str,
    referral_id: int | None = None,
    details: dict[str, Any] | None = None,
    clock: Clock = system_clock,
) -> CustodyEntry:
    # Serialised per case by the caller's transaction (the case row is what changes).
    previous = log(session, case_id)
    entry = CustodyEntry(
        case_id=case_id,
        referral_id=referral_id,
        action=action,
        actor=actor,
        at=clock(),
        details=details or {},
        prev_hash=previous[-1].entry_hash if previous else CUSTODY_GENESIS,
        entry_hash="",
    )
    session.add(entry)
    session.flush()  # the id is part of what is hashed
    entry.entry_hash = custody_digest(entry.prev_hash, entry_fields(entry))
    session.flush()
    return entry


def exported(entries: list[CustodyEntry]) -> list[dict[str, Any]]:
    return [
        {**entry_fields(e), "prev_hash": e.prev_hash, "entry_hash": e.entry_hash} for e in entries
    ]
