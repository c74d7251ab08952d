"""`reclaim backup` and `reclaim restore` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.storage.db import make_engine, make_session_factory
from tests.cli.conftest import Invoke


def test_backup_then_restore_into_an_empty_installation(
    reclaim: Invoke, cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if make_url(cli_env["RECLAIM_DATABASE_URL"]).get_backend_name() != "sqlite":
        pytest.skip("the PostgreSQL path is tested in tests/backups (a second database)")
    engine = make_engine(cli_env["RECLAIM_DATABASE_URL"])
    with make_session_factory(engine).begin() as session:
        for _ in range(3):
            audit.record(session, AuditTag.CASE_VIEWED, actor=audit.SYSTEM)
    engine.dispose()
    weak = tmp_path / "weak"
    weak.write_text("secret\n")
    refused = reclaim("backup", str(tmp_path / "b0"), "--passphrase-file", str(weak))
    assert refused.exit_code == 2 and "passphrase is 6 characters long" in refused.output
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("Vh7q2Lx9Ke4WmT3z-Qm9vT3xLr8eWk2Nc\n")
    done = reclaim("backup", str(tmp_path / "b1"), "--passphrase-file", str(passphrase))
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())  # rich wraps long lines
    assert "Backup written" in said and "sqlite database" in said
    monkeypatch.setenv("RECLAIM_DATABASE_URL", f"sqlite:///{tmp_path / 'new' / 'db.sqlite3'}")
    monkeypatch.setenv("RECLAIM_DATA_DIR", str(tmp_path / "new" / "data"))
    keys = tmp_path / "new" / "keys.env"
    back = reclaim(
        "restore",
        str(tmp_path / "b1"),
        "--passphrase-file",
        str(passphrase),
        "--settings-out",
        str(keys),
    )
    assert back.exit_code == 0, back.output
    assert "the audit trail verifies (3 rows" in " ".join(back.output.split())
    assert keys.exists()
    again = reclaim(
        "restore",
        str(tmp_path / "b1"),
        "--passphrase-file",
        str(passphrase),
        "--settings-out",
        str(tmp_path / "other.env"),
    )
    assert again.exit_code == 1 and "Not restored" in again.output
    assert reclaim("audit", "verify").exit_code == 0
