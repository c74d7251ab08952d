"""A backup taken while reports keep arriving restores into an empty installation with
every report acknowledged before it, an audit trail that verifies against its signed
checkpoints, and a quarantine that decrypts; on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.backups.restoring import RestoreError, restore_backup
from reclaim.backups.sealing import BackupDecryptionError
from reclaim.backups.taking import ARCHIVE, BackupError, take_backup
from reclaim.cases.models import Case
from reclaim.config import Settings
from reclaim.fetching.quarantine.store import QuarantineStore
from reclaim.intake.submission import submit_report
from reclaim.oversight.checkpoints import checkpoint_now
from reclaim.security.field_crypto import field_cipher, keyring
from reclaim.storage.db import make_engine, make_session_factory
from tests.conftest import POSTGRES_URL
from tests.support.intake import a_policy, a_report
from tests.support.settings import make_settings

PASSPHRASE = "a backup passphrase: " + "Vh7q2Lx9Ke4WmT3zQm9vT3xLr8eWk2Nc"


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database on the same backend: the installation to restore into."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'reclaim.sqlite3'}"
        return
    server = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"reclaim_restore_{os.getpid()}_{secrets.token_hex(3)}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


class Submitter(threading.Thread):
    """Submits reports one transaction at a time until stopped; ``acknowledged`` holds
    the case number of every report whose transaction committed."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        super().__init__(daemon=True)
        self.sessions = sessions
        self.cipher = field_cipher(settings)
        self.acknowledged: list[str] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with self.sessions.begin() as session:
                    receipt = submit_report(
                        session,
                        a_report(contact="reporter@example.org", contact_consent=True),
                        policy=a_policy(),
                        cipher=self.cipher,
                        hash_pin=lambda pin: f"test${pin}",
                    )
                self.acknowledged.append(receipt.case_number)
        except BaseException as exc:  # surfaced by the test
            self.error = exc


def test_backup_during_submissions_restores_everything(
    tmp_path: Path, database_url: str, empty_database_url: str
) -> None:
    source = make_settings(tmp_path / "live", database_url=database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    store = QuarantineStore(source.data_dir / "quarantine", keyring(source))
    for number in range(5):
        store.put(f"object-{number}", f"synthetic bytes {number}".encode() * 100)
    with sessions.begin() as session:
        audit.record(session, AuditTag.SETTINGS_CHANGED, actor=audit.SYSTEM)
    submitter = Submitter(sessions, source)
    submitter.start()
    try:
        while len(submitter.acknowledged) < 5 and submitter.is_alive():
            submitter.stop.wait(0.01)
        assert checkpoint_now(sessions, source) is not None
        acknowledged_before = list(submitter.acknowledged)
        result = take_backup(source, tmp_path / "backup", PASSPHRASE)
    finally:
        submitter.stop.set()
        submitter.join(timeout=30)
        engine.dispose()
    assert submitter.error is None, submitter.error
    assert result.quarantine_objects == 5 and result.checkpoints == 1
    # The sealed archive holds nothing readable.
    sealed = (tmp_path / "backup" / ARCHIVE).read_bytes()
    assert b"synthetic bytes" not in sealed and b"reporter@example.org" not in sealed
    assert source.secret_key.get_secret_value().encode() not in sealed

    target = make_settings(tmp_path / "restored-data", database_url=empty_database_url)
    keys_file = tmp_path / "restored-keys.env"
    restored = restore_backup(target, tmp_path / "backup", PASSPHRASE, settings_out=keys_file)
    assert restored.quarantine_objects == 5 and restored.audit_checkpoints == 1
    assert oct(keys_file.stat().st_mode & 0o777) == "0o600"
    keys = dotenv_values(keys_file)
    assert keys["RECLAIM_SECRET_KEY"] == source.secret_key.get_secret_value()
    assert keys["RECLAIM_AUDIT_CURRENT_KEY_ID"] == source.audit_current_key_id

    restored_engine = make_engine(empty_database_url)
    try:
        with make_session_factory(restored_engine)() as session:
            numbers = set(session.scalars(select(Case.number)))
            assert set(acknowledged_before) <= numbers
            # A consistent snapshot: every case it holds came with its audit rows.
            assert restored.audit_rows >= 1 + len(numbers)
            reports = [case.reports[0] for case in session.scalars(select(Case))]
            cipher = field_cipher(target)
            assert {
                cipher.decrypt(report.contact, purpose="report.contact")  # type: ignore[arg-type]
                for report in reports
            } == {"reporter@example.org"}
    finally:
        restored_engine.dispose()
    restored_store = QuarantineStore(target.data_dir / "quarantine", keyring(target))
    assert restored_store.get("object-3") == b"synthetic bytes 3" * 100


def test_restore_refuses_a_wrong_passphrase_and_a_used_installation(
    tmp_path: Path, database_url: str, empty_database_url: str
) -> None:
    source = make_settings(tmp_path / "live", database_url=database_url)
    take_backup(source, tmp_path / "backup", PASSPHRASE)
    with pytest.raises(BackupError, match="not empty"):
        take_backup(source, tmp_path / "backup", PASSPHRASE)
    target = make_settings(tmp_path / "restored-data", database_url=empty_database_url)
    with pytest.raises(BackupDecryptionError, match="wrong passphrase"):
        restore_backup(
            target,
            tmp_path / "backup",
            "another passphrase, Qm9vT3xLr8eWk2Nc",
            settings_out=tmp_path / "k1.env",
        )
    # Restoring over the live installation itself is refused before anything is written.
    with pytest.raises(RestoreError, match="already"):
        restore_backup(source, tmp_path / "backup", PASSPHRASE, settings_out=tmp_path / "k2.env")
    assert not (tmp_path / "k2.env").exists()
