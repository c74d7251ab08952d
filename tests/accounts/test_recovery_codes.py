from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts import recovery_codes
from reclaim.accounts.domain import Role
from reclaim.accounts.models import RecoveryCode, User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent


@pytest.fixture
def user(session: Session) -> User:
    person = User(email="a@staff.reclaim.test", display_name="A", role=Role.ANALYST)
    session.add(person)
    session.flush()
    return person


def test_ten_codes_stored_hashed_and_audited(session: Session, user: User) -> None:
    codes = recovery_codes.issue(session, user, actor=audit.SYSTEM)
    assert len(codes) == len(set(codes)) == 10
    stored = session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    assert all(h.startswith("$argon2id$") for h in stored)
    assert not set(codes) & set(stored)
    event = session.scalars(select(AuditEvent)).one()
    assert event.tag == AuditTag.RECOVERY_CODES_ISSUED.value and event.details == {"count": 10}


def test_each_code_works_once(session: Session, user: User) -> None:
    codes = recovery_codes.issue(session, user, actor=audit.SYSTEM)
    assert recovery_codes.use(session, user, codes[0])
    assert not recovery_codes.use(session, user, codes[0])
    assert recovery_codes.remaining(session, user.id) == 9
    assert recovery_codes.use(session, user, codes[1].upper().replace("-", " "))


@pytest.mark.parametrize(
    "typed", ["", "123456", "abcd-efgh", "abcd-efgh-ijkl-mnop", "llll-oooo-1111"]
)
def test_things_that_are_not_codes(session: Session, user: User, typed: str) -> None:
    recovery_codes.issue(session, user, actor=audit.SYSTEM)
    assert not recovery_codes.use(session, user, typed)
    assert recovery_codes.remaining(session, user.id) == 10


def test_a_new_set_retires_the_old(session: Session, user: User) -> None:
    old = recovery_codes.issue(session, user, actor=audit.SYSTEM)
    new = recovery_codes.issue(session, user, actor=audit.SYSTEM)
    assert not recovery_codes.use(session, user, old[0])
    assert recovery_codes.use(session, user, new[0])


def test_codes_belong_to_their_user(session: Session, user: User) -> None:
    other = User(email="b@staff.reclaim.test", display_name="B", role=Role.ANALYST)
    session.add(other)
    session.flush()
    codes = recovery_codes.issue(session, user, actor=audit.SYSTEM)
    assert not recovery_codes.use(session, other, codes[0])
