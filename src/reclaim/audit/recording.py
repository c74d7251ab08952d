"""The append-only, hash-chained audit trail.

Each row carries the SHA-256 of its own contents and of the previous row's hash, and
rows are numbered from a counter without gaps, so that altering, removing or
re-ordering any row (or dropping the newest ones) is found by `verify_chain`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim.audit.domain import ActorKind, AuditTag, TargetKind
from reclaim.audit.models import AuditEvent
from reclaim.domain.clock import Clock, system_clock
from reclaim.storage import counters
from reclaim.storage.models import Counter

__all__ = ["SYSTEM", "Actor", "AuditTag", "ChainCheck", "record", "verify_chain"]

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: a staff user, a reporter (by case), a partner, or the system."""

    type: ActorKind
    id: int | None = None

    @classmethod
    def user(cls, user_id: int) -> Actor:
        return cls(ActorKind.USER, user_id)

    @classmethod
    def reporter(cls, case_id: int) -> Actor:
        return cls(ActorKind.REPORTER, case_id)

    @classmethod
    def partner(cls, partner_id: int) -> Actor:
        return cls(ActorKind.PARTNER, partner_id)

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM, None)


SYSTEM = Actor.system()


def record(
    session: Session,
    tag: AuditTag,
    *,
    actor: Actor,
    target: tuple[TargetKind, int | None] | None = None,
    details: dict[str, Any] | None = None,
    clock: Clock = system_clock,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits with the action)."""
    sequence = counters.next_values(session, counters.AUDIT)
    previous = session.get(AuditEvent, sequence - 1) if sequence > 1 else None
    event = AuditEvent(
        id=sequence,
        tag=AuditTag(tag).value,
        actor_type=ActorKind(actor.type),
        actor_id=actor.id,
        target_type=TargetKind(target[0]) if target else None,
        target_id=target[1] if target else None,
        details=details or {},
        created_at=clock(),
        prev_hash=previous.row_hash if previous else GENESIS,
    )
    event.row_hash = row_digest(event)
    session.add(event)
    session.flush()
    return event


def row_digest(event: AuditEvent) -> str:
    payload = [
        event.id,
        event.prev_hash,
        event.tag,
        event.actor_type,
        event.actor_id,
        event.target_type,
        event.target_id,
        event.details,
        _timestamp(event.created_at),
    ]
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _timestamp(moment: datetime) -> str:
    # Microseconds are kept by both backends; isoformat of the aware UTC value is stable.
    return moment.isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class ChainCheck:
    rows_checked: int
    first_bad_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(session: Session, batch_size: int = 5000) -> ChainCheck:
    """Walk the whole trail; name the first row that was altered, removed or added."""
    expected_id = 1
    previous_hash = GENESIS
    checked = 0
    for event in _in_order(session, batch_size):
        if event.id != expected_id:
            return ChainCheck(checked, expected_id, f"row {expected_id} is missing")
        if event.prev_hash != previous_hash:
            return ChainCheck(
                checked, event.id, f"row {event.id} does not follow row {event.id - 1}"
            )
        if row_digest(event) != event.row_hash:
            return ChainCheck(checked, event.id, f"row {event.id} was altered")
        previous_hash = event.row_hash
        expected_id += 1
        checked += 1
    issued = session.scalar(select(Counter.value).where(Counter.name == counters.AUDIT)) or 0
    if issued > checked:
        return ChainCheck(checked, checked + 1, f"rows {checked + 1}–{issued} are missing")
    return ChainCheck(checked)


def _in_order(session: Session, batch_size: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch_size)
        ).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].id
        for event in batch:  # keep memory flat on long trails
            session.expunge(event)


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0
