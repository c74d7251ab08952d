"""The append-only, hash-chained audit trail.

Each row carries an HMAC-SHA256 (under an audit key that is not in the database, see
``audit.keys``) of its own contents and of the previous row's hash, and rows are
numbered from a counter without gaps, so that altering, removing, re-ordering or
forging any row (or dropping the newest ones) is found by `verify_chain`.  Rows written
before keys existed (``key_id`` NULL) carry a plain SHA-256; they may only form the
start of the chain.  What a key holder could still do (recompute the chain with the
key) is caught by the signed checkpoints outside the database (``oversight.checkpoints``),
which `verify_chain` takes as ``anchors``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim.audit.domain import ActorKind, AuditTag, TargetKind
from reclaim.audit.keys import AuditKeyring, keyring_for
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
    keyring = keyring_for(session)
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
        key_id=keyring.current_key_id,
    )
    event.row_hash = row_digest(event, keyring.current_key)
    session.add(event)
    session.flush()
    return event


def row_digest(event: AuditEvent, key: bytes | None = None) -> str:
    """The row's hash: HMAC-SHA256 under ``key`` (which the row names by ``key_id``), or
    for a row from before audit keys (no key id) the plain SHA-256 it was written with."""
    payload: list[Any] = [
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
    if event.key_id is not None:
        payload.append(event.key_id)
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if key is None:
        if event.key_id is not None:
            raise ValueError("a keyed row needs its key")
        return hashlib.sha256(canonical.encode()).hexdigest()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


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


def verify_chain(
    session: Session,
    *,
    keyring: AuditKeyring | None = None,
    anchors: Mapping[int, str] | None = None,
    batch_size: int = 5000,
) -> ChainCheck:
    """Walk the whole trail; name the first row that was altered, removed or added.

    ``keyring``: the audit keys (default: the one bound to the session's engine).
    ``anchors``: row id -> row hash from signed checkpoints; every anchored row must
    still be there with that hash, which catches a chain recomputed with the key, a
    rolled-back database and a deleted tail with the counter wound back.
    """
    keys = keyring or keyring_for(session)
    anchored = dict(anchors or {})
    # Writers may append while the trail is walked.  The counter is read before the walk
    # and again after it: the walk must reach at least the first reading (or the newest
    # rows were removed) and at most the second (or rows were added without the
    # counter).  Each read sees what was committed when it ran, whatever the isolation.
    issued_before = _issued(session)
    expected_id = 1
    previous_hash = GENESIS
    keyed_since: int | None = None
    checked = 0
    for event in _in_order(session, batch_size):
        if event.id != expected_id:
            return ChainCheck(checked, expected_id, f"row {expected_id} is missing")
        if event.prev_hash != previous_hash:
            return ChainCheck(
                checked, event.id, f"row {event.id} does not follow row {event.id - 1}"
            )
        problem = _row_problem(event, keys, keyed_since)
        if problem:
            return ChainCheck(checked, event.id, problem)
        if event.key_id is not None and keyed_since is None:
            keyed_since = event.id
        anchor = anchored.pop(event.id, None)
        if anchor is not None and anchor != event.row_hash:
            return ChainCheck(
                checked,
                event.id,
                f"row {event.id} differs from its signed checkpoint (the chain was rewritten)",
            )
        previous_hash = event.row_hash
        expected_id += 1
        checked += 1
    if anchored:
        last = max(anchored)
        return ChainCheck(
            checked,
            checked + 1,
            f"a signed checkpoint covers row {last}, but the trail ends at row {checked}",
        )
    return _against_counter(session, checked, issued_before)


def _against_counter(session: Session, checked: int, issued_before: int) -> ChainCheck:
    """Rows must be 1..counter: fewer than the counter said before the walk means the
    newest were removed, more than it says now means rows were added without it."""
    if issued_before > checked:
        return ChainCheck(checked, checked + 1, f"rows {checked + 1}–{issued_before} are missing")
    issued_after = _issued(session)
    if issued_after < checked:
        return ChainCheck(
            checked,
            issued_after + 1,
            f"the audit counter says {issued_after} rows were written, but {checked} are there",
        )
    return ChainCheck(checked)


def _issued(session: Session) -> int:
    """How many rows the audit counter says were written (committed, as this read sees)."""
    return session.scalar(select(Counter.value).where(Counter.name == counters.AUDIT)) or 0


def _row_problem(event: AuditEvent, keys: AuditKeyring, keyed_since: int | None) -> str | None:
    if event.key_id is None:
        if keyed_since is not None:
            # Unkeyed rows may only be the old start of the chain, never after keyed ones.
            return f"row {event.id} carries no audit key after keyed row {keyed_since}"
        key = None
    else:
        key = keys.keys.get(event.key_id)
        if key is None:
            return f"row {event.id} names an unknown audit key {event.key_id!r}"
    if not hmac.compare_digest(row_digest(event, key), event.row_hash):
        return f"row {event.id} was altered"
    return None


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
