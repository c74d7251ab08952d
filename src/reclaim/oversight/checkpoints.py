"""Signed checkpoints of the audit chain, kept outside the database.

The keyed chain (``audit.recording``) stops anyone without the audit key from forging
or recomputing rows; it cannot stop someone *with* the key, nor a database rolled back
to an older copy, nor the newest rows deleted together with the counter wound back.
A checkpoint anchors the chain: the newest row's id and hash, the time and the audit
key id, signed with the hotline's Ed25519 key (``security.signing``) and written as a
JSON file into ``RECLAIM_AUDIT_CHECKPOINT_DIR`` (a directory that should live on other
storage than the database: another disk, a mounted bucket, a write-once share), and,
when configured, sent to a witness by email or webhook.  ``reclaim audit verify
--checkpoints DIR`` checks every signature and then requires each anchored row to be
in the database with the signed hash; any rewrite before the newest checkpoint fails.

A checkpoint is only signed after the chain verifies against the earlier ones, so a
rewrite cannot be anchored by the next checkpoint.

File format (one per checkpoint, ``audit-checkpoint-<12-digit id>.json``)::

    {"format": "reclaim-audit-checkpoint/1", "sequence": 42, "head_hash": "…",
     "row_key_id": "a1", "created_at": "2026-12-02T12:00:00.000000+00:00",
     "signature": {"algorithm": "ed25519", "key_id": "s1", "signature": "…"}}

The signature covers the canonical JSON (sorted keys, no spaces) of every field but
``signature``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session, sessionmaker

from reclaim.audit import recording
from reclaim.audit.keys import AuditKeyring, audit_keyring
from reclaim.audit.models import AuditEvent
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.oversight.witness import send_to_witnesses
from reclaim.security.signing import (
    Signature,
    SignatureError,
    SigningKeyring,
    signing_keyring,
    verify,
)
from reclaim.storage.readers import read_only_session

FORMAT = "reclaim-audit-checkpoint/1"
_PREFIX = "audit-checkpoint-"


class CheckpointError(ValueError):
    """A checkpoint file is malformed, unsigned, or signed by no known key."""


class ChainBrokenError(RuntimeError):
    """The chain does not verify, so no checkpoint is signed over it."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    sequence: int
    head_hash: str
    row_key_id: str | None
    created_at: datetime

    def payload(self) -> bytes:
        body = {
            "format": FORMAT,
            "sequence": self.sequence,
            "head_hash": self.head_hash,
            "row_key_id": self.row_key_id,
            "created_at": self.created_at.isoformat(timespec="microseconds"),
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def document(self, signature: Signature) -> dict[str, Any]:
        return {**json.loads(self.payload()), "signature": signature.to_json()}

    @property
    def file_name(self) -> str:
        return f"{_PREFIX}{self.sequence:012d}.json"


def head(session: Session, through: int, *, clock: Clock = system_clock) -> Checkpoint | None:
    """Row ``through`` (the newest a verification walked) as an (unsigned) checkpoint;
    None for an empty trail.  Rows appended since were not verified, so are not signed."""
    row = session.get(AuditEvent, through) if through else None
    if row is None:
        return None
    return Checkpoint(row.id, row.row_hash, row.key_id, clock())


def take(
    session: Session,
    directory: Path,
    *,
    signing: SigningKeyring,
    audit_keys: AuditKeyring,
    clock: Clock = system_clock,
) -> tuple[Checkpoint, dict[str, Any], Path] | None:
    """Verify the chain against the checkpoints in ``directory``, then sign its head and
    write the checkpoint there.  Returns the checkpoint, its document and its file, or
    None when the trail is empty or the head is already checkpointed."""
    earlier = load_directory(directory, signing.public_keys())
    check = recording.verify_chain(session, keyring=audit_keys, anchors=anchors(earlier))
    if not check.ok:
        raise ChainBrokenError(f"row {check.first_bad_id}: {check.problem}")
    current = head(session, check.rows_checked, clock=clock)
    if current is None or (directory / current.file_name).exists():
        return None
    document = current.document(signing.sign(current.payload()))
    return current, document, write(directory, current.file_name, document)


def write(directory: Path, name: str, document: Mapping[str, Any]) -> Path:
    """Write atomically (a reader never sees half a checkpoint) and durably."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    scratch = directory / f".{name}.tmp"
    data = json.dumps(document, sort_keys=True, indent=2).encode() + b"\n"
    with scratch.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(scratch, target)
    return target


def parse(document: Mapping[str, Any], public_keys: Mapping[str, Ed25519PublicKey]) -> Checkpoint:
    """A checkpoint from its JSON document, after checking its signature."""
    if document.get("format") != FORMAT:
        raise CheckpointError(f"not a Reclaim audit checkpoint (format {document.get('format')!r})")
    try:
        checkpoint = Checkpoint(
            sequence=int(document["sequence"]),
            head_hash=str(document["head_hash"]),
            row_key_id=document.get("row_key_id"),
            created_at=datetime.fromisoformat(str(document["created_at"])),
        )
        signature = Signature.from_json(document["signature"])
        verify(public_keys, checkpoint.payload(), signature)
    except (KeyError, TypeError, ValueError) as exc:
        detail = str(exc) if isinstance(exc, SignatureError) else f"malformed ({exc})"
        raise CheckpointError(detail) from None
    return checkpoint


def load_directory(
    directory: Path, public_keys: Mapping[str, Ed25519PublicKey]
) -> list[Checkpoint]:
    """Every checkpoint in ``directory``, signatures checked, oldest first.

    A file that fails its signature is an error, not something to skip: a forged
    checkpoint is itself tampering."""
    if not directory.is_dir():
        return []
    found: list[Checkpoint] = []
    for path in sorted(directory.glob(f"{_PREFIX}*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            checkpoint = parse(document, public_keys)
        except (OSError, json.JSONDecodeError, CheckpointError) as exc:
            raise CheckpointError(f"{path.name}: {exc}") from None
        if path.name != checkpoint.file_name:
            raise CheckpointError(f"{path.name}: names row {checkpoint.sequence} inside")
        found.append(checkpoint)
    return sorted(found, key=lambda checkpoint: checkpoint.sequence)


def anchors(checkpoints: list[Checkpoint]) -> dict[int, str]:
    """Row id -> signed row hash, for ``audit.verify_chain(anchors=...)``."""
    return {checkpoint.sequence: checkpoint.head_hash for checkpoint in checkpoints}


def verify_with_checkpoints(
    session: Session,
    directory: Path,
    *,
    public_keys: Mapping[str, Ed25519PublicKey],
    audit_keys: AuditKeyring | None = None,
) -> tuple[recording.ChainCheck, list[Checkpoint]]:
    """Verify the chain and every checkpoint in ``directory`` (CheckpointError if a
    checkpoint itself is bad)."""
    checkpoints = load_directory(directory, public_keys)
    check = recording.verify_chain(session, keyring=audit_keys, anchors=anchors(checkpoints))
    return check, checkpoints


def take_now(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    clock: Clock = system_clock,
) -> tuple[Checkpoint, dict[str, Any], Path] | None:
    """Take a checkpoint into the configured directory (its document, for witnesses).
    None: nothing new.  The walk reads only (on SQLite: without the write lock, which
    it would hold for about a minute at a million rows)."""
    with read_only_session(sessions.kw["bind"]) as session:
        return take(
            session,
            settings.checkpoint_dir,
            signing=signing_keyring(settings),
            audit_keys=audit_keyring(settings),
            clock=clock,
        )


def checkpoint_now(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    clock: Clock = system_clock,
) -> tuple[Checkpoint, Path, list[str]] | None:
    """Take a checkpoint into the configured directory and send it to the witnesses
    (after the read transaction: no network call inside one).  None: nothing new."""
    taken = take_now(sessions, settings, clock=clock)
    if taken is None:
        return None
    checkpoint, document, path = taken
    return checkpoint, path, send_to_witnesses(settings, document, clock=clock)
