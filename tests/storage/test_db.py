from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reclaim.banks.models import Bank
from reclaim.cases.domain import ItemKind
from reclaim.cases.models import Item
from reclaim.migrations import upgrade
from reclaim.storage import counters
from reclaim.storage.db import make_engine, make_session_factory


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'db.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Item(case_id=999_999, kind=ItemKind.URL, url="https://example.org/"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_timestamps_come_back_aware_utc(session: Session) -> None:
    taipei = timezone(timedelta(hours=8))
    moment = datetime(2026, 11, 21, 20, 30, tzinfo=taipei)
    session.add(Bank(name="imported", description="", created_at=moment))
    session.commit()
    session.expire_all()
    bank = session.scalars(select(Bank).where(Bank.name == "imported")).one()
    assert bank.created_at == moment
    assert bank.created_at.tzinfo == UTC


def test_naive_timestamps_are_refused(session: Session) -> None:
    session.add(Bank(name="naive", description="", created_at=datetime(2026, 1, 1)))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()


def test_counters_are_consecutive_across_sessions(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    seen = []
    for _ in range(3):
        with sessions.begin() as session:
            seen.append(counters.next_values(session, "test"))
    with sessions.begin() as session:
        seen.append(counters.next_values(session, "test", count=10))
    assert seen == [1, 2, 3, 13]


def test_upgrade_creates_the_sqlite_file_and_directory(tmp_path: Path) -> None:
    path = tmp_path / "var" / "reclaim.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    assert path.exists()
