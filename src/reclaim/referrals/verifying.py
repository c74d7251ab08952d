"""Checking an evidence package (``reclaim evidence verify PACKAGE``).

What is checked: the zip is intact; ``manifest.json``'s Ed25519 signature verifies
with the hotline's published key (or, when none is given, the key inside the package,
which is then said plainly); every file the manifest lists has its SHA-256 and no
file is added; ``SHA256SUMS`` agrees; the custody log's chain holds; every audit
event's row hash recomputes.  Any one changed byte fails at least one of these.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from reclaim.audit.domain import ActorKind, TargetKind
from reclaim.audit.models import AuditEvent
from reclaim.audit.recording import row_digest
from reclaim.referrals.domain import CUSTODY_GENESIS, custody_digest
from reclaim.referrals.evidence import (
    CLUSTER_FORMAT,
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    SIGNATURE_INFO,
    SUMS,
    pack,
)
from reclaim.security.signing import Signature, SignatureError, load_public_key, verify

_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIXED = {MANIFEST, SIGNATURE, SIGNATURE_INFO, PUBLIC_KEY, SUMS}


@dataclass(slots=True)
class Verification:
    problems: list[str] = field(default_factory=list)
    key_id: str | None = None
    case: str | None = None
    files: int = 0
    custody_entries: int = 0
    audit_events: int = 0
    # Rows hashed under the hotline's audit key: linked and signed, recomputed by the hotline.
    keyed_audit_events: int = 0
    used_enclosed_key: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_package(
    data: bytes, public_keys: Mapping[str, Ed25519PublicKey] | None = None
) -> Verification:
    result = Verification()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            damaged = archive.testzip()
            if damaged is not None:
                result.problems.append(f"the zip is damaged at {damaged}")
                return result
            files = {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        result.problems.append(f"not a readable zip: {exc}")
        return result
    if pack(files) != data:
        result.problems.append("the zip is not in its canonical form: some byte was changed")
    missing = sorted(_FIXED - set(files))
    if missing:
        result.problems.append(f"missing: {', '.join(missing)}")
        return result
    if not _check_signature(files, public_keys, result):
        return result
    manifest: dict[str, Any] = json.loads(files[MANIFEST])
    result.case = manifest.get("shared", {}).get("case")
    _check_files(files, manifest.get("files", {}), result)
    _check_sums(files, result)
    for part in _case_parts(manifest, result):
        _check_custody(part.get("custody", []), result)
        _check_audit(part.get("audit_events", []), result)
    return result


def _check_files(files: dict[str, bytes], listed: dict[str, str], result: Verification) -> None:
    for name, digest in listed.items():
        if name not in files:
            result.problems.append(f"{name}: listed but missing")
        elif hashlib.sha256(files[name]).hexdigest() != digest:
            result.problems.append(f"{name}: SHA-256 does not match the manifest")
    extra = sorted(set(files) - set(listed) - _FIXED)
    if extra:
        result.problems.append(f"files not in the manifest: {', '.join(extra)}")
    result.files = len(listed)


def _case_parts(manifest: dict[str, Any], result: Verification) -> list[dict[str, Any]]:
    """The case parts to check: the one case, or every case of a cluster's package."""
    if manifest.get("format") != CLUSTER_FORMAT:
        return [manifest]
    parts: list[dict[str, Any]] = manifest.get("cases", [])
    numbers = [str(p.get("shared", {}).get("case")) for p in parts]
    result.case = f"cluster of {len(parts)} cases: {', '.join(numbers)}"
    return parts


def _check_signature(
    files: dict[str, bytes],
    public_keys: Mapping[str, Ed25519PublicKey] | None,
    result: Verification,
) -> bool:
    try:
        named = Signature.from_json(json.loads(files[SIGNATURE_INFO]))
        signature = Signature(named.key_id, files[SIGNATURE])
        result.key_id = signature.key_id
        keys = public_keys
        if not keys:
            result.used_enclosed_key = True
            keys = {signature.key_id: load_public_key(files[PUBLIC_KEY].decode())}
        verify(keys, files[MANIFEST], signature)
    except (SignatureError, ValueError) as exc:
        result.problems.append(f"signature: {exc}")
        return False
    return True


def _check_sums(files: dict[str, bytes], result: Verification) -> None:
    expected = {
        name: hashlib.sha256(data).hexdigest() for name, data in files.items() if name != SUMS
    }
    found = {}
    for line in files[SUMS].decode().splitlines():
        digest, _, name = line.partition("  ")
        found[name] = digest
    if found != expected:
        result.problems.append("SHA256SUMS does not match the files")


def _check_custody(entries: list[dict[str, Any]], result: Verification) -> None:
    previous = CUSTODY_GENESIS
    for entry in entries:
        fields = {k: v for k, v in entry.items() if k not in ("prev_hash", "entry_hash")}
        if entry.get("prev_hash") != previous:
            result.problems.append(
                f"custody entry {entry.get('id')}: does not follow the one before"
            )
        if custody_digest(entry.get("prev_hash", ""), fields) != entry.get("entry_hash"):
            result.problems.append(f"custody entry {entry.get('id')}: altered")
        previous = entry.get("entry_hash", "")
    result.custody_entries += len(entries)


def _check_audit(events: list[dict[str, Any]], result: Verification) -> None:
    """Rows from before audit keys are recomputed; keyed rows (an HMAC under the hotline's
    audit key, which stays with the hotline) are checked where they can be without it:
    a well-formed hash, and each row naming the hash of the row before it when both are
    in the package."""
    previous: dict[str, Any] | None = None
    for row in events:
        key_id = row.get("key_id")
        if not _HEX64.fullmatch(str(row.get("row_hash", ""))):
            result.problems.append(f"audit event {row.get('id')}: no well-formed hash")
        elif key_id is None:
            event = AuditEvent(
                id=row["id"],
                prev_hash=row["prev_hash"],
                tag=row["tag"],
                actor_type=ActorKind(row["actor_type"]),
                actor_id=row["actor_id"],
                target_type=TargetKind(row["target_type"]) if row["target_type"] else None,
                target_id=row["target_id"],
                details=row["details"],
                created_at=datetime.fromisoformat(row["created_at"]),
            )
            if row_digest(event) != row["row_hash"]:
                result.problems.append(f"audit event {row['id']}: its hash does not recompute")
        else:
            result.keyed_audit_events += 1
        if (
            previous is not None
            and row.get("id") == previous.get("id", 0) + 1
            and row.get("prev_hash") != previous.get("row_hash")
        ):
            result.problems.append(f"audit event {row.get('id')}: does not follow the one before")
        previous = row
    result.audit_events += len(events)
