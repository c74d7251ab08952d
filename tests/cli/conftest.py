import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import reclaim.cli.commands
from reclaim.cli import app
from reclaim.migrations import upgrade
from reclaim.storage.db import make_engine
from tests.support.settings import TEST_AUDIT_KEY, TEST_QUARANTINE_KEY, TEST_SIGNING_KEY

Invoke = Callable[..., Result]


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for a command run against the per-test database."""
    env = {
        "RECLAIM_ENVIRONMENT": "test",
        "RECLAIM_SECRET_KEY": "test-secret-key-0123456789abcdef",
        "RECLAIM_DATABASE_URL": database_url,
        "RECLAIM_DATA_DIR": str(tmp_path / "data"),
        "RECLAIM_QUARANTINE_KEYS": json.dumps({"k1": TEST_QUARANTINE_KEY}),
        "RECLAIM_QUARANTINE_CURRENT_KEY_ID": "k1",
        "RECLAIM_SIGNING_KEYS": json.dumps({"s1": TEST_SIGNING_KEY}),
        "RECLAIM_SIGNING_CURRENT_KEY_ID": "s1",
        "RECLAIM_AUDIT_KEYS": json.dumps({"a1": TEST_AUDIT_KEY}),
        "RECLAIM_AUDIT_CURRENT_KEY_ID": "a1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    return env


@pytest.fixture
def reclaim(cli_env: dict[str, str]) -> Invoke:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke
