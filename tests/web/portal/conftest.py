"""Pages, not SQL: these tests run on SQLite only (the services they call are tested
on both backends; see tests/conftest.py)."""

from pathlib import Path

import pytest

from tests.conftest import sqlite_copy


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path)
