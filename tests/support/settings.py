"""The settings builder every test uses, and where the repository and suites live."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import pytest

from reclaim.config import Settings, load_settings

IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parents[2]
#: One quarantine key per test run (random: no test may depend on its value).
TEST_QUARANTINE_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
TEST_SIGNING_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
TEST_AUDIT_KEY = base64.b64encode(secrets.token_bytes(32)).decode()


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Test settings: a fresh secret and key, SQLite and data under ``tmp_path``."""
    values: dict[str, object] = {
        "environment": "test",
        "secret_key": secrets.token_urlsafe(32),
        "quarantine_keys": {"k1": TEST_QUARANTINE_KEY},
        "quarantine_current_key_id": "k1",
        "signing_keys": {"s1": TEST_SIGNING_KEY},
        "signing_current_key_id": "s1",
        "audit_keys": {"a1": TEST_AUDIT_KEY},
        "audit_current_key_id": "a1",
        "database_url": f"sqlite:///{tmp_path / 'reclaim.sqlite3'}",
        "data_dir": tmp_path / "data",
    }
    values.update(overrides)
    return load_settings(**values)


def require_or_skip(reason: str) -> None:
    """Skip locally; fail under CI, where every suite must run."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)
