"""`reclaim backup DEST`: a consistent online backup, encrypted, in two files.

``DEST/manifest.json`` (plain: when, which database, the audit head at the snapshot,
the passphrase's scrypt salt and cost) and ``DEST/reclaim-backup.tar.sealed`` (the
encrypted tar, see ``sealing``) holding:

* ``database.sqlite3``, taken with SQLite's online backup API (a consistent snapshot
  while the server keeps writing), or ``database.pgdump``, taken with
  ``pg_dump --format=custom --no-owner --no-privileges`` (one consistent transaction);
* ``quarantine/``: the encrypted quarantine objects, copied after the snapshot (an
  object fetched meanwhile is an orphan the purge job removes; one purged meanwhile had
  reached the end of its retention anyway);
* ``audit-checkpoints/``: the signed checkpoints, if the directory is on this machine;
* ``keys.env``: the secret key and every key ring, in settings-file form, because a
  database restored without its keys cannot decrypt its contacts or its quarantine, nor
  verify its audit trail.

Plaintext never touches the destination: the snapshot is made in a private temporary
directory (mode 0700) and removed after it is sealed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from reclaim.backups.sealing import SealedWriter, derive_key
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock

MANIFEST = "manifest.json"
ARCHIVE = "reclaim-backup.tar.sealed"
FORMAT = "reclaim-backup/1"
SCRYPT_N = 2**15


class BackupError(RuntimeError):
    """The backup could not be taken (the message says why); nothing usable was left."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    directory: Path
    backend: str
    database_bytes: int
    quarantine_objects: int
    checkpoints: int


def take_backup(
    settings: Settings,
    destination: Path,
    passphrase: str,
    *,
    clock: Clock = system_clock,
    salt: bytes | None = None,
) -> BackupResult:
    """Write a sealed backup of this installation into the empty ``destination``."""
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty; back up into a new directory")
    destination.mkdir(parents=True, exist_ok=True)
    salt = salt or os.urandom(16)
    backend = make_url(settings.database_url).get_backend_name()
    with tempfile.TemporaryDirectory(prefix="reclaim-backup-") as scratch_name:
        scratch = Path(scratch_name)  # created 0700 by tempfile
        taken_at = clock()
        database = _snapshot(settings, scratch, backend)
        objects = _files(settings.data_dir / "quarantine")
        checkpoints = _files(settings.checkpoint_dir)
        keys = scratch / "keys.env"
        keys.write_text(keys_env(settings), encoding="utf-8")
        key = derive_key(passphrase, salt, n=SCRYPT_N)
        with (destination / ARCHIVE).open("wb") as sink:
            sealed = SealedWriter(sink, key)
            with tarfile.open(fileobj=sealed, mode="w|") as archive:  # type: ignore[call-overload]
                archive.add(database, arcname=database.name)
                archive.add(keys, arcname="keys.env")
                for path in objects:
                    rel = path.relative_to(settings.data_dir / "quarantine")
                    archive.add(path, arcname=f"quarantine/{rel}")
                for path in checkpoints:
                    archive.add(path, arcname=f"audit-checkpoints/{path.name}")
            sealed.close()
            sink.flush()
            os.fsync(sink.fileno())
        size = database.stat().st_size
    manifest = _manifest(taken_at, backend, salt, len(objects), len(checkpoints))
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return BackupResult(destination, backend, size, len(objects), len(checkpoints))


def _snapshot(settings: Settings, scratch: Path, backend: str) -> Path:
    if backend == "sqlite":
        source_path = make_url(settings.database_url).database
        if not source_path or source_path == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up")
        target = scratch / "database.sqlite3"
        source = sqlite3.connect(source_path, timeout=30)
        copy = sqlite3.connect(target)
        try:
            # The online backup API in one step: a read transaction that, in WAL mode,
            # never blocks the writers and sees one consistent state.  (Copying in
            # several steps would restart whenever a writer commits: forever on a
            # busy hotline.)
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return target
    if backend == "postgresql":
        target = scratch / "database.pgdump"
        command = [*pg_dump_command(settings.database_url), "--file", str(target)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
        return target
    raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")


def libpq_url(database_url: str) -> str:
    """The URL without SQLAlchemy's driver suffix, as pg_dump and psql take it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def pg_dump_command(database_url: str) -> list[str]:
    """The exact pg_dump command (docs/deployment.md shows it for manual use)."""
    return [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        "--dbname",
        libpq_url(database_url),
    ]


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith("."))


def keys_env(settings: Settings) -> str:
    """Every secret the data depends on, as a settings file (``KEY=value`` lines)."""

    def ring(keys: dict[str, Any]) -> str:
        return json.dumps({kid: key.get_secret_value() for kid, key in keys.items()})

    lines = {
        "RECLAIM_SECRET_KEY": settings.secret_key.get_secret_value(),
        "RECLAIM_QUARANTINE_KEYS": ring(dict(settings.quarantine_keys)),
        "RECLAIM_QUARANTINE_CURRENT_KEY_ID": settings.quarantine_current_key_id,
        "RECLAIM_SIGNING_KEYS": ring(dict(settings.signing_keys)),
        "RECLAIM_SIGNING_CURRENT_KEY_ID": settings.signing_current_key_id,
        "RECLAIM_AUDIT_KEYS": ring(dict(settings.audit_keys)),
        "RECLAIM_AUDIT_CURRENT_KEY_ID": settings.audit_current_key_id,
    }
    return "".join(f"{name}='{value}'\n" for name, value in lines.items())


def _manifest(
    taken_at: datetime, backend: str, salt: bytes, objects: int, checkpoints: int
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "taken_at": taken_at.isoformat(),
        "database": backend,
        "archive": ARCHIVE,
        "kdf": {"name": "scrypt", "salt": salt.hex(), "n": SCRYPT_N, "r": 8, "p": 1},
        "cipher": "AES-256-GCM, 1 MiB chunks (STREAM)",
        "quarantine_objects": objects,
        "audit_checkpoints": checkpoints,
    }
