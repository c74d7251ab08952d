"""Every kind of rewrite of the audit trail, each one found by `verify --checkpoints`.

The trail has rows 1-10; a signed checkpoint anchors row 8.  Each tamper below is
what someone who can write the database could do (some also hold the audit key: an
insider with the settings); each must make the verification fail.  Kinds marked
``anchored`` are the ones the keyed chain alone cannot see (a key holder's rewrite, a
deleted tail with the counter wound back): the test also shows that only the
checkpoint catches them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.event import listen, remove
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from reclaim import audit
from reclaim.audit.domain import ActorKind, AuditTag, TargetKind
from reclaim.audit.keys import AuditKeyring
from reclaim.audit.models import AuditEvent
from reclaim.audit.recording import GENESIS, row_digest
from reclaim.config import Settings
from reclaim.oversight import checkpoints
from reclaim.security.signing import SigningKeyring
from reclaim.storage import counters
from reclaim.storage.db import make_engine, make_session_factory
from reclaim.storage.models import Counter
from tests.support.clock import FakeClock
from tests.support.settings import TEST_SIGNING_KEY
from tests.support.statements import reads_the_counter

ROWS = 10
ANCHORED_ROW = 8


@dataclass(frozen=True)
class Trail:
    session: Session
    keys: AuditKeyring
    signing: SigningKeyring
    directory: Path


Tamper = Callable[[Trail], None]


@pytest.fixture
def signing() -> SigningKeyring:
    return SigningKeyring.from_base64("s1", {"s1": TEST_SIGNING_KEY})


@pytest.fixture
def trail(
    session: Session,
    audit_keyring: AuditKeyring,
    signing: SigningKeyring,
    tmp_path: Path,
    clock: FakeClock,
) -> Trail:
    directory = tmp_path / "checkpoints"
    _record(session, ANCHORED_ROW)
    taken = checkpoints.take(
        session, directory, signing=signing, audit_keys=audit_keyring, clock=clock
    )
    assert taken is not None and taken[0].sequence == ANCHORED_ROW
    _record(session, ROWS - ANCHORED_ROW)
    return Trail(session, audit_keyring, signing, directory)


def _record(session: Session, n: int) -> None:
    for _ in range(n):
        audit.record(
            session,
            AuditTag.CASE_VIEWED,
            actor=audit.Actor.user(7),
            target=(TargetKind.CASE, 3),
            details={"note": "案件"},
        )
    session.commit()


def _verify(trail: Trail) -> str | None:
    """The problem verification finds (None: it passes)."""
    trail.session.expire_all()
    try:
        check, _ = checkpoints.verify_with_checkpoints(
            trail.session, trail.directory, public_keys=trail.signing.public_keys()
        )
    except checkpoints.CheckpointError as exc:
        return f"checkpoint: {exc}"
    return check.problem


def _rows(trail: Trail) -> list[AuditEvent]:
    return list(trail.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _rechain(trail: Trail, key: bytes | None, *, key_id: str | None, start: int = 1) -> None:
    """Recompute every hash from row ``start`` on, as an attacker would."""
    previous = GENESIS
    for event in _rows(trail):
        if event.id >= start:
            event.prev_hash = previous
            event.key_id = key_id
            event.row_hash = row_digest(event, key)
        previous = event.row_hash
    trail.session.flush()
    trail.session.commit()


def _set_counter(trail: Trail, value: int) -> None:
    trail.session.execute(update(Counter).where(Counter.name == counters.AUDIT).values(value=value))
    trail.session.commit()


def _forged(trail: Trail, row_id: int, prev_hash: str) -> AuditEvent:
    return AuditEvent(
        id=row_id,
        tag=AuditTag.ITEM_DECIDED.value,
        actor_type=ActorKind.USER,
        actor_id=1,
        target_type=TargetKind.ITEM,
        target_id=99,
        details={"decision": "not_abuse"},
        created_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
        prev_hash=prev_hash,
        key_id=trail.keys.current_key_id,
    )


# --- the tampers -------------------------------------------------------------------


def modified_row(trail: Trail) -> None:
    trail.session.execute(update(AuditEvent).where(AuditEvent.id == 3).values(details={"x": 1}))
    trail.session.commit()


def modified_timestamp(trail: Trail) -> None:
    trail.session.execute(
        update(AuditEvent)
        .where(AuditEvent.id == 4)
        .values(created_at=datetime(2020, 1, 1, tzinfo=UTC))
    )
    trail.session.commit()


def modified_row_with_plain_hash(trail: Trail) -> None:
    """The row's hash recomputed as the old unkeyed SHA-256 (no key needed)."""
    event = trail.session.get(AuditEvent, 3)
    assert event is not None
    event.tag = AuditTag.LOGIN_SUCCEEDED.value
    event.key_id = None
    event.row_hash = row_digest(event, None)
    trail.session.commit()


def recomputed_chain_with_a_guessed_key(trail: Trail) -> None:
    modified_row(trail)
    _rechain(trail, secrets.token_bytes(32), key_id=trail.keys.current_key_id, start=3)


def recomputed_chain_without_keys(trail: Trail) -> None:
    """Every row rewritten as an old-style SHA-256 chain (as if before audit keys): no
    key needed, and unkeyed rows are legal as the start of a chain migrated from before
    audit keys, so only the checkpoint (which names the key of row 8) tells."""
    modified_row(trail)
    _rechain(trail, None, key_id=None)


def recomputed_chain_with_the_key(trail: Trail) -> None:
    """An insider who holds the audit key changes row 3 and recomputes the rest."""
    modified_row(trail)
    _rechain(trail, trail.keys.current_key, key_id=trail.keys.current_key_id, start=3)


def forged_tail_row_counter_not_bumped(trail: Trail) -> None:
    """A row with a correct prev_hash and a correct keyed hash, counter untouched."""
    last = _rows(trail)[-1]
    forged = _forged(trail, ROWS + 1, last.row_hash)
    forged.row_hash = row_digest(forged, trail.keys.current_key)
    trail.session.add(forged)
    trail.session.commit()


def forged_tail_row_without_the_key(trail: Trail) -> None:
    """A row with a correct prev_hash and a plain SHA-256, counter bumped to match."""
    last = _rows(trail)[-1]
    forged = _forged(trail, ROWS + 1, last.row_hash)
    forged.key_id = None
    forged.row_hash = row_digest(forged, None)
    trail.session.add(forged)
    trail.session.commit()
    _set_counter(trail, ROWS + 1)


def forged_row_inserted_before_the_checkpoint(trail: Trail) -> None:
    """An insider with the key slips a row in at 5, renumbers and recomputes the rest."""
    rows = _rows(trail)
    trail.session.execute(delete(AuditEvent).where(AuditEvent.id >= 5))
    trail.session.commit()
    forged = _forged(trail, 5, "?")
    forged.row_hash = "pending-forged"
    trail.session.add(forged)
    for event in rows[4:]:
        trail.session.add(
            AuditEvent(
                id=event.id + 1,
                tag=event.tag,
                actor_type=event.actor_type,
                actor_id=event.actor_id,
                target_type=event.target_type,
                target_id=event.target_id,
                details=event.details,
                created_at=event.created_at,
                prev_hash="?",
                row_hash=f"pending-{event.id}",
                key_id=event.key_id,
            )
        )
    trail.session.flush()
    _rechain(trail, trail.keys.current_key, key_id=trail.keys.current_key_id, start=5)
    _set_counter(trail, ROWS + 1)


def deleted_middle_row(trail: Trail) -> None:
    trail.session.execute(delete(AuditEvent).where(AuditEvent.id == 5))
    trail.session.commit()


def deleted_tail(trail: Trail) -> None:
    trail.session.execute(delete(AuditEvent).where(AuditEvent.id >= 9))
    trail.session.commit()


def deleted_tail_and_counter_wound_back(trail: Trail) -> None:
    """Rows 6-10 gone and the counter set to 5: the keyed chain alone looks whole."""
    trail.session.execute(delete(AuditEvent).where(AuditEvent.id >= 6))
    trail.session.commit()
    _set_counter(trail, 5)


def reordered_rows(trail: Trail) -> None:
    """Rows 3 and 4 swap places (their ids exchanged)."""
    third, fourth = trail.session.get(AuditEvent, 3), trail.session.get(AuditEvent, 4)
    assert third is not None and fourth is not None
    # Different details so the swap changes content, then exchange ids via a spare id.
    trail.session.execute(update(AuditEvent).where(AuditEvent.id == 3).values(id=1000))
    trail.session.execute(update(AuditEvent).where(AuditEvent.id == 4).values(id=3))
    trail.session.execute(update(AuditEvent).where(AuditEvent.id == 1000).values(id=4))
    trail.session.commit()


def counter_ahead_of_rows(trail: Trail) -> None:
    _set_counter(trail, ROWS + 2)


def counter_behind_rows(trail: Trail) -> None:
    _set_counter(trail, ROWS - 1)


def unknown_key_id(trail: Trail) -> None:
    """A row claims a key the verifier does not hold (the attacker's own)."""
    key = secrets.token_bytes(32)
    event = trail.session.get(AuditEvent, 9)
    assert event is not None
    event.details = {"rewritten": True}
    event.key_id = "attacker"
    event.row_hash = row_digest(event, key)
    trail.session.commit()
    _rechain(trail, key, key_id="attacker", start=10)


def database_rolled_back_to_an_empty_copy(trail: Trail) -> None:
    """The whole trail replaced by an empty one (a restored old copy, say)."""
    trail.session.execute(delete(AuditEvent))
    trail.session.commit()
    _set_counter(trail, 0)


def forged_checkpoint(trail: Trail) -> None:
    """The attacker rewrites row 3 with the key and writes a matching checkpoint signed
    with a key of their own under the hotline's key id."""
    recomputed_chain_with_the_key(trail)
    head = trail.session.get(AuditEvent, ANCHORED_ROW)
    assert head is not None
    fake = checkpoints.Checkpoint(ANCHORED_ROW, head.row_hash, head.key_id, datetime.now(UTC))
    theirs = SigningKeyring.from_base64(
        "s1", {"s1": base64.b64encode(hashlib.sha256(b"attacker").digest()).decode()}
    )
    checkpoints.write(trail.directory, fake.file_name, fake.document(theirs.sign(fake.payload())))


def checkpoint_file_edited(trail: Trail) -> None:
    """The checkpoint's head hash edited to match a rewrite (signature left as it was)."""
    recomputed_chain_with_the_key(trail)
    path = trail.directory / f"audit-checkpoint-{ANCHORED_ROW:012d}.json"
    document = json.loads(path.read_text())
    head = trail.session.get(AuditEvent, ANCHORED_ROW)
    assert head is not None
    document["head_hash"] = head.row_hash
    path.write_text(json.dumps(document))


TAMPERS: list[tuple[Tamper, bool]] = [
    # (tamper, needs the checkpoint: the keyed chain alone would pass it)
    (modified_row, False),
    (modified_timestamp, False),
    (modified_row_with_plain_hash, False),
    (recomputed_chain_with_a_guessed_key, False),
    (recomputed_chain_without_keys, True),
    (recomputed_chain_with_the_key, True),
    (forged_tail_row_counter_not_bumped, False),
    (forged_tail_row_without_the_key, False),
    (forged_row_inserted_before_the_checkpoint, True),
    (deleted_middle_row, False),
    (deleted_tail, False),
    (deleted_tail_and_counter_wound_back, True),
    (reordered_rows, False),
    (counter_ahead_of_rows, False),
    (counter_behind_rows, False),
    (unknown_key_id, False),
    (database_rolled_back_to_an_empty_copy, True),
    (forged_checkpoint, True),
    (checkpoint_file_edited, True),
]


def test_the_untouched_trail_verifies_with_its_checkpoint(trail: Trail) -> None:
    assert _verify(trail) is None
    check, found = checkpoints.verify_with_checkpoints(
        trail.session, trail.directory, public_keys=trail.signing.public_keys()
    )
    assert check.rows_checked == ROWS and [c.sequence for c in found] == [ANCHORED_ROW]


@pytest.mark.parametrize(("tamper", "anchored"), TAMPERS, ids=[t.__name__ for t, _ in TAMPERS])
def test_every_kind_of_tampering_is_detected(trail: Trail, tamper: Tamper, anchored: bool) -> None:
    tamper(trail)
    assert _verify(trail) is not None, f"{tamper.__name__} went unnoticed"
    # What the keyed chain alone sees: the anchored kinds need the checkpoint.
    trail.session.expire_all()
    alone = audit.verify_chain(trail.session, keyring=trail.keys)
    assert alone.ok is anchored, alone.problem


def test_a_checkpoint_is_not_signed_over_a_broken_chain(trail: Trail, clock: FakeClock) -> None:
    recomputed_chain_with_the_key(trail)
    with pytest.raises(checkpoints.ChainBrokenError, match="checkpoint"):
        checkpoints.take(
            trail.session,
            trail.directory,
            signing=trail.signing,
            audit_keys=trail.keys,
            clock=clock,
        )


def test_checkpoints_follow_the_head_and_skip_when_nothing_is_new(
    trail: Trail, clock: FakeClock
) -> None:
    taken = checkpoints.take(
        trail.session, trail.directory, signing=trail.signing, audit_keys=trail.keys, clock=clock
    )
    assert taken is not None and taken[0].sequence == ROWS
    again = checkpoints.take(
        trail.session, trail.directory, signing=trail.signing, audit_keys=trail.keys, clock=clock
    )
    assert again is None
    names = sorted(p.name for p in trail.directory.iterdir())
    assert names == ["audit-checkpoint-000000000008.json", "audit-checkpoint-000000000010.json"]
    # Rows after the newest checkpoint are still covered by the key: a later rewrite of
    # row 10 by someone without the key is caught.
    deleted_tail(trail)
    assert "checkpoint covers row 10" in (_verify(trail) or "")


@pytest.fixture
def impatient_sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions on ``engine``'s database whose writes fail at once where the write lock
    is held (SQLite's busy handler off) instead of queueing behind it."""
    if engine.dialect.name != "sqlite":
        yield make_session_factory(engine)
        return
    impatient = make_engine(engine.url.render_as_string(hide_password=False))
    listen(impatient, "connect", lambda connection, _: connection.execute("PRAGMA busy_timeout=0"))
    yield make_session_factory(impatient)
    impatient.dispose()


def test_the_checkpoint_job_lets_reports_in_and_signs_only_what_it_verified(
    engine: Engine,
    impatient_sessions: sessionmaker[Session],
    db_settings: Settings,
    clock: FakeClock,
) -> None:
    """The checkpoint job runs while reports arrive.  A writer commits an audit row
    mid-walk (just before the walk's closing read of the counter), from another session
    that does not wait for locks: on SQLite the walk must not hold the write lock (it
    takes about a minute at a million rows, and every report would wait).  That row
    was never verified, so it is not what gets signed; the next checkpoint covers it."""
    sessions = make_session_factory(engine)
    with sessions() as writing:
        _record(writing, 3)
    reads: list[ORMExecuteState] = []

    def write_mid_walk(state: ORMExecuteState) -> None:
        if reads_the_counter(state):
            reads.append(state)
            if len(reads) == 2:
                with impatient_sessions() as other:
                    _record(other, 1)

    listen(Session, "do_orm_execute", write_mid_walk)
    try:
        taken = checkpoints.take_now(sessions, db_settings, clock=clock)
    finally:
        remove(Session, "do_orm_execute", write_mid_walk)
    assert len(reads) == 2
    assert taken is not None and taken[0].sequence == 3
    again = checkpoints.take_now(sessions, db_settings, clock=clock)
    assert again is not None and again[0].sequence == 4
    with sessions() as after:
        assert audit.verify_chain(after).rows_checked == 4
