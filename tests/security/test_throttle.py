from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.security.models import ThrottleFailure
from reclaim.security.throttle import Check, Limit, Throttle
from tests.support.clock import FakeClock

WINDOW = timedelta(minutes=15)
ACCOUNT = Limit("login-account", 3, WINDOW)
CLIENT = Limit("login-client", 5, WINDOW)


@pytest.fixture
def throttle(clock: FakeClock) -> Throttle:
    return Throttle(b"test secret", clock)


def test_a_key_locks_at_its_limit_and_unlocks_as_failures_age(
    session: Session, throttle: Throttle, clock: FakeClock
) -> None:
    check = Check(ACCOUNT, "a@staff.reclaim.test")
    for minute in range(3):
        assert throttle.locked_until(session, [check]) is None
        clock.now += timedelta(minutes=minute)
        throttle.failed(session, [check])
    # Failures at 09:00, 09:01 and 09:03: locked until the first leaves the window.
    assert throttle.locked_until(session, [check]) == datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    clock.now = datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    assert throttle.locked_until(session, [check]) is None
    assert throttle.failures(session, check) == 2


def test_the_lock_follows_the_latest_failures(
    session: Session, throttle: Throttle, clock: FakeClock
) -> None:
    check = Check(ACCOUNT, "a")
    for _ in range(5):
        throttle.failed(session, [check])
        clock.now += timedelta(minutes=2)
    # Five failures 2 minutes apart: the last three (09:04, 09:06, 09:08) hold the lock.
    assert throttle.locked_until(session, [check]) == datetime(2026, 3, 1, 9, 19, tzinfo=UTC)


def test_keys_and_buckets_are_separate(session: Session, throttle: Throttle) -> None:
    a, b = Check(ACCOUNT, "a"), Check(ACCOUNT, "b")
    same_key_other_bucket = Check(CLIENT, "a")
    for _ in range(3):
        throttle.failed(session, [a])
    assert throttle.locked_until(session, [a]) is not None
    assert throttle.locked_until(session, [b]) is None
    assert throttle.locked_until(session, [same_key_other_bucket]) is None
    # Any locked check locks the whole attempt.
    assert throttle.locked_until(session, [b, a]) is not None


def test_the_latest_lock_wins(session: Session, throttle: Throttle, clock: FakeClock) -> None:
    account, client = Check(ACCOUNT, "a"), Check(CLIENT, "198.51.100.7")
    for _ in range(5):
        throttle.failed(session, [account, client])
        clock.now += timedelta(minutes=1)
    # account: last 3 at 09:02–09:04 → 09:17; client: all 5 from 09:00 → 09:15.
    assert throttle.locked_until(session, [client]) == datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    assert throttle.locked_until(session, [client, account]) == datetime(
        2026, 3, 1, 9, 17, tzinfo=UTC
    )


def test_clearing_forgets_one_key(session: Session, throttle: Throttle) -> None:
    account, client = Check(ACCOUNT, "a"), Check(CLIENT, "198.51.100.7")
    for _ in range(3):
        throttle.failed(session, [account, client])
    throttle.cleared(session, account)
    assert throttle.failures(session, account) == 0
    assert throttle.failures(session, client) == 3


def test_keys_are_stored_as_keyed_hashes(
    session: Session, throttle: Throttle, clock: FakeClock
) -> None:
    throttle.failed(session, [Check(CLIENT, "198.51.100.7")])
    stored = session.scalars(select(ThrottleFailure.key)).one()
    assert "198.51.100.7" not in stored and len(stored) == 64
    # Another deployment's secret gives other keys: the table cannot be matched up.
    other = Throttle(b"another secret", clock)
    assert other.failures(session, Check(CLIENT, "198.51.100.7")) == 0


def test_old_failures_are_deleted_as_new_ones_come(
    session: Session, throttle: Throttle, clock: FakeClock
) -> None:
    check = Check(ACCOUNT, "a")
    throttle.failed(session, [check])
    clock.now += timedelta(hours=1)
    throttle.failed(session, [check])
    assert len(session.scalars(select(ThrottleFailure)).all()) == 1
