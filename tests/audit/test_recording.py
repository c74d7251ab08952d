from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, update
from sqlalchemy.event import listen
from sqlalchemy.orm import ORMExecuteState, Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.audit.keys import AuditKeyring
from reclaim.audit.models import AuditEvent
from reclaim.audit.recording import row_digest
from reclaim.storage.db import make_session_factory
from reclaim.storage.readers import read_only_session
from tests.support.statements import reads_the_counter


def _write(session: Session, n: int) -> None:
    for i in range(n):
        audit.record(
            session,
            AuditTag.CASE_VIEWED,
            actor=audit.Actor.user(7),
            target=(TargetKind.CASE, i),
            details={"i": i, "note": "案件"},
        )
    session.commit()


def test_an_intact_chain_verifies(session: Session) -> None:
    _write(session, 5)
    check = audit.verify_chain(session)
    assert check.ok
    assert check.rows_checked == 5


def test_an_altered_row_is_named(session: Session) -> None:
    _write(session, 5)
    session.execute(update(AuditEvent).where(AuditEvent.id == 3).values(details={"i": 99}))
    session.commit()
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.first_bad_id == 3
    assert "altered" in (check.problem or "")


def test_an_altered_timestamp_is_named(session: Session) -> None:
    _write(session, 4)
    session.execute(
        update(AuditEvent)
        .where(AuditEvent.id == 2)
        .values(created_at=datetime(2020, 1, 1, tzinfo=UTC))
    )
    session.commit()
    assert audit.verify_chain(session).first_bad_id == 2


def test_a_removed_row_is_named(session: Session) -> None:
    _write(session, 5)
    session.execute(delete(AuditEvent).where(AuditEvent.id == 2))
    session.commit()
    check = audit.verify_chain(session)
    assert check.first_bad_id == 2
    assert "missing" in (check.problem or "")


def test_removing_the_newest_rows_is_noticed(session: Session) -> None:
    _write(session, 5)
    session.execute(delete(AuditEvent).where(AuditEvent.id >= 4))
    session.commit()
    check = audit.verify_chain(session)
    assert check.first_bad_id == 4


def test_a_row_rewritten_with_a_fresh_hash_breaks_the_next_link(
    session: Session, audit_keyring: AuditKeyring
) -> None:
    _write(session, 4)
    event = session.get(AuditEvent, 2)
    assert event is not None
    event.details = {"forged": True}
    event.row_hash = row_digest(event, audit_keyring.current_key)
    session.commit()
    check = audit.verify_chain(session)
    assert check.first_bad_id == 3
    assert "does not follow" in (check.problem or "")


def test_unknown_tags_cannot_be_written(session: Session) -> None:
    with pytest.raises(ValueError, match="not a valid AuditTag"):
        audit.record(session, "case:item:deleted", actor=audit.SYSTEM)  # type: ignore[arg-type]


def test_concurrent_writers_keep_one_chain(engine: Engine) -> None:
    sessions = make_session_factory(engine)

    def writer(_: int) -> None:
        for _ in range(10):
            with sessions.begin() as session:
                audit.record(session, AuditTag.CASE_VIEWED, actor=audit.SYSTEM)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(writer, range(4)))
    with sessions() as session:
        check = audit.verify_chain(session)
    assert check.ok, check.problem
    assert check.rows_checked == 40


def test_a_row_committed_while_the_chain_is_walked_is_not_called_missing(
    engine: Engine,
) -> None:
    """Writers keep appending while the trail is verified (the checkpoint job, a live
    backup): a row committed after the walk read the rows but before it read the audit
    counter is the trail growing, not a row removed.  The listener commits one event
    from another session just before each read of the counter, which is the moment that
    race lands on PostgreSQL's read-committed transactions."""
    sessions = make_session_factory(engine)
    with sessions.begin() as writing:
        _write(writing, 3)
    appended = []

    def append_before_counter_reads(state: ORMExecuteState) -> None:
        if reads_the_counter(state):
            with sessions.begin() as other:
                appended.append(audit.record(other, AuditTag.CASE_VIEWED, actor=audit.SYSTEM).id)

    with read_only_session(engine) as verifying:  # SQLite: a snapshot, not the write lock
        listen(verifying, "do_orm_execute", append_before_counter_reads)
        check = audit.verify_chain(verifying)
    assert appended, "the counter was never read"
    assert check.ok, check.problem
    with sessions() as after:
        assert audit.verify_chain(after).rows_checked == 3 + len(appended)
