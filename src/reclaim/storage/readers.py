"""Read-only sessions for hot read paths (the partner API), without SQLite's write lock.

storage/db.py makes every SQLite transaction ``BEGIN IMMEDIATE``: writers must queue
for the lock rather than fail half-way.  A transaction that only reads does not need
that lock, and taking it makes every API read wait behind every write (a bank import
holds it for seconds) and behind each other (SQLite's busy handler sleeps up to 100 ms
between tries).  In WAL mode a plain (deferred) ``BEGIN`` gives a reader a consistent
snapshot that writers never block, which is what the hash feed and the match API need.

On PostgreSQL readers never take write locks, so the ordinary engine serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from reclaim.storage.db import make_session_factory


def reader_sessions(engine: Engine) -> tuple[sessionmaker[Session], Engine | None]:
    """Sessions that only read, for the database ``engine`` is connected to.

    Returns the factory and, on SQLite, the new engine behind it (the caller disposes
    of it); elsewhere the factory uses ``engine`` itself and the second item is None.
    """
    if engine.dialect.name != "sqlite":
        return make_session_factory(engine), None
    url = engine.url.render_as_string(hide_password=False)
    reader = make_reader_engine(url)
    return make_session_factory(reader), reader


@contextmanager
def read_only_session(engine: Engine) -> Iterator[Session]:
    """One session that only reads the database ``engine`` is connected to, for long
    reads such as walking the whole audit trail: on SQLite it holds a snapshot instead of
    the write lock, so reports keep being written meanwhile."""
    readers, reader_engine = reader_sessions(engine)
    try:
        with readers() as session:
            yield session
    finally:
        if reader_engine is not None:
            reader_engine.dispose()


def make_reader_engine(url: str, **kwargs: Any) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        raise ValueError("reader engines are for SQLite; use the ordinary engine elsewhere")
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
    event.listen(engine, "connect", _configure)
    event.listen(engine, "begin", _begin_deferred)
    return engine


def _configure(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A reader that tried to write would fail at once instead of taking the lock.
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()
    dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN, below, starts transactions


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")
