"""Shared fixtures: settings, and a real database on SQLite and on PostgreSQL.

Every test that asks for `engine` or `session` runs once per backend.  The PostgreSQL
run needs RECLAIM_TEST_POSTGRES_URL (a server where we may create a scratch database);
under CI=true a missing or unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from reclaim.audit.keys import AuditKeyring, use_keyring
from reclaim.config import Settings
from reclaim.migrations import upgrade
from reclaim.migrations.schema import metadata
from reclaim.storage.db import make_engine, make_session_factory
from tests.support.clock import FakeClock
from tests.support.settings import REPO, TEST_AUDIT_KEY, make_settings, require_or_skip
from tests.support.smtp import LoopbackSmtp, RecordingHandler

POSTGRES_URL = os.environ.get("RECLAIM_TEST_POSTGRES_URL", "")
TESTDATA = REPO.parent / "shared" / "testdata"


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.fail(f"test media not found at {TESTDATA} (shared/ must sit beside the repo)")
    return TESTDATA


@pytest.fixture(autouse=True)
def audit_keyring() -> AuditKeyring:
    """The audit key of every test (as make_settings configures it): what entry points
    install from settings, installed afresh for each test (a command run in-process
    installs its own) for tests that record through a bare engine."""
    return use_keyring(AuditKeyring.from_base64("a1", {"a1": TEST_AUDIT_KEY}))


@pytest.fixture
def clock() -> FakeClock:
    """The fake clock, at T0 (tests.support.clock)."""
    return FakeClock()


# --- settings ---------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


# --- databases --------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A scratch PostgreSQL database for this test run, migrated once, dropped after."""
    if not POSTGRES_URL:
        require_or_skip("RECLAIM_TEST_POSTGRES_URL is not set")
    server = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"reclaim_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        server.dispose()
        require_or_skip(f"PostgreSQL at RECLAIM_TEST_POSTGRES_URL is unusable: {exc}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: every test that asks runs once on each backend.

    Test packages whose tests exercise pages rather than SQL (``tests/web/console``,
    ``tests/web/portal``) override this with :func:`sqlite_copy` alone: what they
    prove does not depend on the backend, and the services beneath them are tested
    on both.
    """
    if request.param == "sqlite":
        yield sqlite_copy(request, tmp_path)
        return
    url: str = request.getfixturevalue("postgres_database")
    yield url
    _truncate_all(url)


def sqlite_copy(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A copy of the migrated SQLite template under ``tmp_path``, as a database URL."""
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "reclaim.sqlite3"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for arranging and asserting; commit explicitly when a test needs to."""
    with make_session_factory(engine)() as session:
        yield session


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings pointing at the per-test database (either backend)."""
    return make_settings(tmp_path, database_url=database_url)


@pytest.fixture
def mailbox() -> Iterator[tuple[LoopbackSmtp, RecordingHandler]]:
    """A real SMTP server (aiosmtpd) on loopback, and what it received."""
    handler = RecordingHandler()
    server = LoopbackSmtp(handler)
    server.start()
    yield server, handler
    server.stop()
