from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from reclaim.accounts import staff_sessions
from reclaim.accounts.domain import Role
from reclaim.accounts.models import StaffSession, User
from reclaim.accounts.staff_sessions import SessionPolicy
from tests.support.clock import FakeClock

POLICY = SessionPolicy.of(idle_minutes=30, absolute_hours=12)


@pytest.fixture
def user(session: Session) -> User:
    person = User(email="a@staff.reclaim.test", display_name="A", role=Role.ANALYST)
    session.add(person)
    session.flush()
    return person


def start(session: Session, user: User, clock: FakeClock, *, mfa: bool = True) -> str:
    return staff_sessions.start(session, user, POLICY, mfa_passed=mfa, clock=clock).token


def test_a_started_session_resolves_by_its_token(
    session: Session, user: User, clock: FakeClock
) -> None:
    started = staff_sessions.start(
        session, user, POLICY, mfa_passed=True, client="198.51.100.7", clock=clock
    )
    assert started.token not in started.record.token_hash  # only the digest is kept
    assert started.record.token_hash == staff_sessions.token_digest(started.token)
    found = staff_sessions.resolve(session, started.token, POLICY, clock=clock)
    assert found is not None and found.id == started.record.id
    assert found.expires_at == clock.now + timedelta(hours=12)
    assert staff_sessions.resolve(session, "no such token", POLICY, clock=clock) is None
    assert staff_sessions.resolve(session, None, POLICY, clock=clock) is None
    assert staff_sessions.resolve(session, "", POLICY, clock=clock) is None


def test_the_idle_timeout(session: Session, user: User, clock: FakeClock) -> None:
    token = start(session, user, clock)
    clock.advance(minutes=29)
    assert staff_sessions.resolve(session, token, POLICY, clock=clock) is not None
    # That request counted as activity: another 29 minutes are fine.
    clock.advance(minutes=29)
    assert staff_sessions.resolve(session, token, POLICY, clock=clock) is not None
    clock.advance(minutes=30)
    assert staff_sessions.resolve(session, token, POLICY, clock=clock) is None
    # Once idle it stays dead, even if the clock were turned back.
    clock.advance(minutes=-59)
    assert staff_sessions.resolve(session, token, POLICY, clock=clock) is None


def test_activity_is_written_at_most_once_a_minute(
    session: Session, user: User, clock: FakeClock
) -> None:
    started = staff_sessions.start(session, user, POLICY, mfa_passed=True, clock=clock)
    clock.advance(seconds=20)
    staff_sessions.resolve(session, started.token, POLICY, clock=clock)
    assert started.record.last_seen_at == clock.now - timedelta(seconds=20)
    clock.advance(seconds=45)
    staff_sessions.resolve(session, started.token, POLICY, clock=clock)
    assert started.record.last_seen_at == clock.now


def test_the_absolute_timeout(session: Session, user: User, clock: FakeClock) -> None:
    token = start(session, user, clock)
    for _ in range(12 * 4 - 1):  # active every 15 minutes for almost 12 hours
        clock.advance(minutes=15)
        assert staff_sessions.resolve(session, token, POLICY, clock=clock) is not None
    clock.advance(minutes=15)
    assert staff_sessions.resolve(session, token, POLICY, clock=clock) is None


def test_rotation_ends_the_old_session(session: Session, user: User, clock: FakeClock) -> None:
    half = staff_sessions.start(
        session, user, POLICY, mfa_passed=False, client="198.51.100.7", clock=clock
    )
    clock.advance(seconds=30)
    full = staff_sessions.rotate(session, half.record, POLICY, mfa_passed=True, clock=clock)
    assert full.token != half.token
    assert half.record.revoked_at == clock.now
    assert full.record.mfa_passed and full.record.user_id == user.id
    assert full.record.client == "198.51.100.7"
    assert staff_sessions.resolve(session, half.token, POLICY, clock=clock) is None
    assert staff_sessions.resolve(session, full.token, POLICY, clock=clock) is not None


def test_ending_one_session(session: Session, user: User, clock: FakeClock) -> None:
    first = staff_sessions.start(session, user, POLICY, mfa_passed=True, clock=clock)
    second = start(session, user, clock)
    staff_sessions.end(session, first.record, clock=clock)
    ended_at = first.record.revoked_at
    clock.advance(minutes=1)
    staff_sessions.end(session, first.record, clock=clock)  # ending twice keeps the first time
    assert first.record.revoked_at == ended_at
    assert staff_sessions.resolve(session, first.token, POLICY, clock=clock) is None
    assert staff_sessions.resolve(session, second, POLICY, clock=clock) is not None


def test_end_all_spares_only_the_one_kept(session: Session, user: User, clock: FakeClock) -> None:
    other = User(email="b@staff.reclaim.test", display_name="B", role=Role.ANALYST)
    session.add(other)
    session.flush()
    kept = staff_sessions.start(session, user, POLICY, mfa_passed=True, clock=clock)
    tokens = [start(session, user, clock) for _ in range(3)]
    bystander = start(session, other, clock)
    assert staff_sessions.end_all(session, user.id, keep=kept.record, clock=clock) == 3
    session.expire_all()
    assert all(staff_sessions.resolve(session, t, POLICY, clock=clock) is None for t in tokens)
    assert staff_sessions.resolve(session, kept.token, POLICY, clock=clock) is not None
    assert staff_sessions.resolve(session, bystander, POLICY, clock=clock) is not None
    assert staff_sessions.end_all(session, user.id, clock=clock) == 1
    session.expire_all()
    assert staff_sessions.resolve(session, kept.token, POLICY, clock=clock) is None


def test_an_inactive_users_sessions_do_not_resolve(
    session: Session, user: User, clock: FakeClock
) -> None:
    token = start(session, user, clock)
    user.is_active = False
    session.flush()
    assert staff_sessions.resolve(session, token, POLICY, clock=clock) is None
    user.is_active = True
    session.flush()
    assert staff_sessions.resolve(session, token, POLICY, clock=clock) is not None


def test_live_sessions_leave_out_ended_idle_and_expired_ones(
    session: Session, user: User, clock: FakeClock
) -> None:
    ended = staff_sessions.start(session, user, POLICY, mfa_passed=True, clock=clock)
    staff_sessions.end(session, ended.record, clock=clock)
    idle = staff_sessions.start(session, user, POLICY, mfa_passed=True, clock=clock)
    clock.advance(minutes=31)
    live = staff_sessions.start(session, user, POLICY, mfa_passed=True, clock=clock)
    found = staff_sessions.live_sessions(session, user.id, POLICY, clock=clock)
    assert [s.id for s in found] == [live.record.id]
    assert idle.record.revoked_at is None  # not yet marked: it is simply not live
    clock.advance(hours=13)
    assert staff_sessions.live_sessions(session, user.id, POLICY, clock=clock) == []


def test_long_client_details_are_cut_to_fit(session: Session, user: User, clock: FakeClock) -> None:
    started = staff_sessions.start(
        session, user, POLICY, mfa_passed=True, client="x" * 100, user_agent="y" * 999, clock=clock
    )
    session.flush()
    record = session.get(StaffSession, started.record.id)
    assert record is not None
    assert len(record.client or "") == 64 and len(record.user_agent or "") == 255
