"""`reclaim keys`: usage, rotation and retirement from the command line."""

from __future__ import annotations

import base64
import json
import secrets

import pytest

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.storage.db import make_engine, make_session_factory
from tests.cli.conftest import Invoke
from tests.support.settings import TEST_AUDIT_KEY, TEST_QUARANTINE_KEY


def test_rotate_the_encryption_key_then_retire_the_old_one(
    reclaim: Invoke, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(cli_env["RECLAIM_DATABASE_URL"])
    with make_session_factory(engine).begin() as session:
        audit.record(session, AuditTag.CASE_VIEWED, actor=audit.SYSTEM)
    engine.dispose()
    assert reclaim("keys", "retire", "k1").exit_code == 1  # the current key
    new = base64.b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv(
        "RECLAIM_QUARANTINE_KEYS", json.dumps({"k1": TEST_QUARANTINE_KEY, "k2": new})
    )
    monkeypatch.setenv("RECLAIM_QUARANTINE_CURRENT_KEY_ID", "k2")
    assert reclaim("keys", "rotate", "encryption").exit_code == 0
    retired = reclaim("keys", "retire", "k1")
    assert retired.exit_code == 0 and "encrypts nothing" in retired.output

    same = reclaim("keys", "rotate", "audit")
    assert same.exit_code == 1 and "already uses" in same.output, same.output
    audit_key = base64.b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("RECLAIM_AUDIT_KEYS", json.dumps({"a1": TEST_AUDIT_KEY, "a2": audit_key}))
    monkeypatch.setenv("RECLAIM_AUDIT_CURRENT_KEY_ID", "a2")
    rotated = reclaim("keys", "rotate", "audit")
    assert rotated.exit_code == 0 and "new audit segment starts at row 2" in rotated.output
    assert reclaim("audit", "verify").exit_code == 0
