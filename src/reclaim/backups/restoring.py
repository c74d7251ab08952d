"""`reclaim restore SRC`: a sealed backup into an empty installation, then checked.

The installation named by the settings (``RECLAIM_DATABASE_URL``, ``RECLAIM_DATA_DIR``,
``RECLAIM_AUDIT_CHECKPOINT_DIR``) must be empty: no tables in the database, no objects
in the quarantine.  Restoring over live data is refused rather than merged.  The keys
come back as a settings file (mode 0600) that the operator adds to the installation's
settings; the restore itself uses them at once to prove the backup usable: the audit
chain verifies (against the restored checkpoints) and every quarantine object decrypts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from reclaim.audit.keys import AuditKeyring, bind_keyring
from reclaim.backups.sealing import SealedReader, derive_key
from reclaim.backups.taking import ARCHIVE, FORMAT, MANIFEST, libpq_url
from reclaim.config import Settings, load_settings
from reclaim.fetching.quarantine.keys import Keyring
from reclaim.fetching.quarantine.store import QuarantineStore
from reclaim.oversight.checkpoints import verify_with_checkpoints
from reclaim.security.signing import signing_keyring
from reclaim.storage.db import make_engine, make_session_factory


class RestoreError(RuntimeError):
    """The backup cannot be restored here (the message says why)."""


@dataclass(frozen=True, slots=True)
class RestoreResult:
    audit_rows: int
    audit_checkpoints: int
    quarantine_objects: int
    settings_file: Path


def restore_backup(
    settings: Settings, source: Path, passphrase: str, *, settings_out: Path
) -> RestoreResult:
    manifest = _manifest(source)
    backend = make_url(settings.database_url).get_backend_name()
    if manifest["database"] != backend:
        raise RestoreError(
            f"the backup holds a {manifest['database']} database; RECLAIM_DATABASE_URL is {backend}"
        )
    _require_empty(settings)
    kdf = manifest["kdf"]
    key = derive_key(passphrase, bytes.fromhex(kdf["salt"]), n=kdf["n"], r=kdf["r"], p=kdf["p"])
    with tempfile.TemporaryDirectory(prefix="reclaim-restore-") as scratch_name:
        scratch = Path(scratch_name)
        with (source / ARCHIVE).open("rb") as sealed_file:
            reader = SealedReader(sealed_file, key)
            with tarfile.open(fileobj=reader, mode="r|") as archive:  # type: ignore[call-overload]
                archive.extractall(scratch, filter="data")
        _restore_database(settings, scratch, backend)
        _move_tree(scratch / "quarantine", settings.data_dir / "quarantine")
        _move_tree(scratch / "audit-checkpoints", settings.checkpoint_dir)
        settings_out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(settings_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write((scratch / "keys.env").read_text(encoding="utf-8"))
    restored = _with_keys(settings, settings_out)
    return _check(restored, settings_out)


def _manifest(source: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RestoreError(f"{source} holds no readable {MANIFEST}: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise RestoreError(f"{source} is not a Reclaim backup ({manifest.get('format')!r})")
    return manifest


def _require_empty(settings: Settings) -> None:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if path.exists() and path.stat().st_size > 0:
            raise RestoreError(f"the database file {path} already exists; restore needs none")
    else:
        engine = make_engine(settings.database_url)
        try:
            tables = inspect(engine).get_table_names()
        finally:
            engine.dispose()
        if tables:
            raise RestoreError(
                f"the database already has {len(tables)} tables; restore needs an empty one"
            )
    quarantine = settings.data_dir / "quarantine"
    if quarantine.is_dir() and any(quarantine.iterdir()):
        raise RestoreError(f"{quarantine} is not empty; restore needs an empty data directory")


def _restore_database(settings: Settings, scratch: Path, backend: str) -> None:
    if backend == "sqlite":
        target = Path(make_url(settings.database_url).database or "")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(scratch / "database.sqlite3", target)
        return
    command = [*pg_restore_command(settings.database_url), str(scratch / "database.pgdump")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RestoreError(f"pg_restore failed: {done.stderr.strip()[:500]}")


def pg_restore_command(database_url: str) -> list[str]:
    """The exact pg_restore command (docs/deployment.md shows it for manual use)."""
    return [
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        "--dbname",
        libpq_url(database_url),
    ]


def _move_tree(source: Path, target: Path) -> None:
    if not source.is_dir():
        return
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(mode=0o700, exist_ok=True)
        else:
            shutil.copy2(path, destination)


def _with_keys(settings: Settings, keys_file: Path) -> Settings:
    values: dict[str, Any] = {
        name.removeprefix("RECLAIM_").lower(): json.loads(value) if value[:1] == "{" else value
        for name, value in dotenv_values(keys_file).items()
        if value is not None
    }
    merged = settings.model_dump()
    merged.update(values)
    return load_settings(**merged)


def _check(settings: Settings, settings_out: Path) -> RestoreResult:
    """Prove the restored installation usable with the restored keys."""
    audit_keys = AuditKeyring.from_base64(
        settings.audit_current_key_id,
        {kid: key.get_secret_value() for kid, key in settings.audit_keys.items()},
    )
    engine = bind_keyring(make_engine(settings.database_url), audit_keys)
    try:
        with make_session_factory(engine)() as session:
            check, checkpoints = verify_with_checkpoints(
                session,
                settings.checkpoint_dir,
                public_keys=signing_keyring(settings).public_keys(),
                audit_keys=audit_keys,
            )
    finally:
        engine.dispose()
    if not check.ok:
        raise RestoreError(f"the restored audit trail does not verify: {check.problem}")
    keyring = Keyring.from_base64(
        settings.quarantine_current_key_id,
        {kid: key.get_secret_value() for kid, key in settings.quarantine_keys.items()},
    )
    store = QuarantineStore(settings.data_dir / "quarantine", keyring)
    objects = 0
    for entry in store.entries():
        store.read(entry.object_id)  # raises if it does not decrypt
        objects += 1
    return RestoreResult(check.rows_checked, len(checkpoints), objects, settings_out)
