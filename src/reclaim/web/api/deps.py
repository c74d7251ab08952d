"""Database sessions for the partner API: read-only ones for reads (see
storage/readers.py), the ordinary ones for the few operations that write.

The hot paths (the key check, matching) run their reads on the event loop when the
database is SQLite: a WAL reader never waits for a lock, the query takes microseconds,
and a hop to the thread pool would cost more than the query.  On a networked database
the same work goes to the thread pool (``run_read``), so a slow server cannot stall
the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from reclaim.storage.readers import reader_sessions

T = TypeVar("T")
_lock = threading.Lock()


def readers(app: FastAPI) -> sessionmaker[Session]:
    """The app's read-only session factory, made on first use."""
    found: sessionmaker[Session] | None = getattr(app.state, "api_readers", None)
    if found is None:
        with _lock:
            found = getattr(app.state, "api_readers", None)
            if found is None:
                found, engine = reader_sessions(app.state.reclaim.engine)
                app.state.api_reader_engine = engine
                app.state.api_readers = found
    return found


def close_readers(app: FastAPI) -> None:
    """Dispose of the read-only engine (tests; a process exit does it anyway)."""
    engine: Engine | None = getattr(app.state, "api_reader_engine", None)
    if engine is not None:
        engine.dispose()


def read_now(app: FastAPI, work: Callable[[Session], T]) -> T:
    """``work(session)`` in a read-only session, in the calling thread."""
    with readers(app)() as session:
        return work(session)


async def run_read(app: FastAPI, work: Callable[[Session], T]) -> T:
    """``work(session)`` in a read-only session: inline on SQLite, else in a thread."""
    if app.state.reclaim.engine.dialect.name == "sqlite":
        return read_now(app, work)
    return await run_in_threadpool(read_now, app, work)


def read_db(request: Request) -> Iterator[Session]:
    with readers(request.app)() as session:
        yield session


#: ``session: ReadSession``: a session that only reads, never waiting for writers.
ReadSession = Annotated[Session, Depends(read_db)]
