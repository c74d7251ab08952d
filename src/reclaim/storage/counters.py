"""Monotonic counters incremented under a row lock (see `models.Counter`)."""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reclaim.storage.models import Counter

AUDIT = "audit"
BANK_FEED = "bank_feed"


def next_values(session: Session, name: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive values and return the last one.

    The UPDATE takes the counter's row lock (PostgreSQL) or the database write lock
    (SQLite) and holds it until the caller's transaction ends, which is what orders
    concurrent writers.
    """
    statement = (
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    )
    value = session.execute(statement).scalar_one_or_none()
    if value is not None:
        return int(value)
    try:
        with session.begin_nested():
            session.execute(insert(Counter).values(name=name, value=count))
    except IntegrityError:
        # Someone else created it first; their row is there now.
        return int(session.execute(statement).scalar_one())
    return count
