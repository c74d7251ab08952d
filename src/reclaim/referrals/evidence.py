"""The evidence package: one zip file an agency can keep and check without Reclaim.

Layout (docs/agencies.md):

``manifest.json``
    what was shared (``sharing.shared_case``), the custody log (hash-chained), the
    audit events that concern the case with their chain hashes, and ``files``: the
    SHA-256 of every other file in the package.
``manifest.sig``
    the raw 64-byte Ed25519 signature of ``manifest.json`` by the hotline's signing
    key; ``signature.json`` names the key id; ``hotline-public-key.pem`` is a copy of
    the public key (compare it with the published one; never trust the copy alone).
``SHA256SUMS``
    every file's SHA-256 in ``sha256sum -c`` form.
``snapshots/<id>.html``
    the pages' HTML as the review fetch saw it.
``media/<id>.enc``
    quarantined media, only when the referral shares media and the agency has a public
    key: encrypted to it with X25519 + HKDF-SHA256 + AES-256-GCM (``seal``).

Files are stored uncompressed in one canonical byte form (``pack``), so a changed
byte anywhere, even in the zip's own headers, is found.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.audit.models import AuditEvent
from reclaim.cases.models import Item, PageSnapshot, QuarantinedMedia, Report
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching.quarantine import QuarantineError, QuarantineStore
from reclaim.referrals import custody
from reclaim.referrals.agencies import parse_public_key
from reclaim.referrals.domain import CustodyAction, Share, canonical_json
from reclaim.referrals.models import Referral
from reclaim.referrals.sharing import shared_case, shares_of
from reclaim.security.field_crypto import FieldCipher
from reclaim.security.signing import SigningKeyring, public_key_pem

FORMAT = "reclaim-evidence/1"
CLUSTER_FORMAT = "reclaim-evidence-cluster/1"  # one package for a cluster of cases
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SIGNATURE_INFO = "signature.json"
PUBLIC_KEY = "hotline-public-key.pem"
SUMS = "SHA256SUMS"
SEAL_MAGIC = b"RCLMSEAL1"
SEAL_INFO = b"reclaim-evidence/1 media"
#: Audit events that carry decisions: left out unless the referral shares decisions
#: (each event's hash is checked on its own, so leaving some out breaks nothing).
DECISION_EVENTS = frozenset({AuditTag.ITEM_DECIDED.value, AuditTag.DECISION_AGREED.value})


@dataclass(frozen=True, slots=True)
class Package:
    data: bytes
    sha256: str
    filename: str


def pack(files: dict[str, bytes]) -> bytes:
    """The one byte form of a package: sorted names, stored, fixed times and
    attributes.  A verifier re-packs what it read and compares, so a changed byte
    anywhere (even in the zip's own headers) is found."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def seal(recipient: X25519PublicKey, plaintext: bytes) -> bytes:
    """Encrypt to an X25519 public key: magic, ephemeral public key, nonce, AES-GCM."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(recipient)
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_public, info=SEAL_INFO).derive(
        shared
    )
    nonce = os.urandom(12)
    return SEAL_MAGIC + ephemeral_public + nonce + AESGCM(key).encrypt(nonce, plaintext, None)


def unseal(private: X25519PrivateKey, sealed: bytes) -> bytes:
    """The agency's side of :func:`seal` (docs/agencies.md has the same in 15 lines)."""
    if not sealed.startswith(SEAL_MAGIC):
        raise ValueError("not a sealed evidence file")
    body = sealed[len(SEAL_MAGIC) :]
    ephemeral_public, nonce, ciphertext = body[:32], body[32:44], body[44:]
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_public, info=SEAL_INFO).derive(
        shared
    )
    return AESGCM(key).decrypt(nonce, ciphertext, None)


def case_audit_events(session: Session, referral: Referral) -> list[dict[str, Any]]:
    """The audit events about the case, its items and reports and its referrals, with
    their chain hashes (decision events only when the referral shares decisions).

    A row hashed before audit keys existed (no ``key_id``) can be recomputed by anyone;
    a keyed row's hash is an HMAC under the hotline's audit key, which never leaves the
    hotline: a reader checks the links between consecutive rows, the package's signature
    covers every row, and the hotline recomputes them with ``reclaim audit verify``."""
    case_id = referral.case_id
    items = select(Item.id).where(Item.case_id == case_id).scalar_subquery()
    reports = select(Report.id).where(Report.case_id == case_id).scalar_subquery()
    referrals = select(Referral.id).where(Referral.case_id == case_id).scalar_subquery()
    events = session.scalars(
        select(AuditEvent)
        .where(
            or_(
                and_(AuditEvent.target_type == TargetKind.CASE, AuditEvent.target_id == case_id),
                and_(AuditEvent.target_type == TargetKind.ITEM, AuditEvent.target_id.in_(items)),
                and_(
                    AuditEvent.target_type == TargetKind.REPORT, AuditEvent.target_id.in_(reports)
                ),
                and_(
                    AuditEvent.target_type == TargetKind.REFERRAL,
                    AuditEvent.target_id.in_(referrals),
                ),
            )
        )
        .order_by(AuditEvent.id)
    )
    hidden = set() if Share.DECISIONS in shares_of(referral) else DECISION_EVENTS
    return [
        {
            "id": e.id,
            "prev_hash": e.prev_hash,
            "tag": e.tag,
            "actor_type": e.actor_type.value,
            "actor_id": e.actor_id,
            "target_type": e.target_type.value if e.target_type else None,
            "target_id": e.target_id,
            "details": e.details,
            "created_at": e.created_at.isoformat(timespec="microseconds"),
            "key_id": e.key_id,
            "row_hash": e.row_hash,
        }
        for e in events
        if e.tag not in hidden
    ]


def case_files(
    session: Session, referral: Referral, store: QuarantineStore, prefix: str = ""
) -> dict[str, bytes]:
    """The case's page snapshots, and its media sealed to the agency when shared."""
    files: dict[str, bytes] = {}
    for snapshot in session.scalars(
        select(PageSnapshot)
        .join(Item, Item.id == PageSnapshot.item_id)
        .where(Item.case_id == referral.case_id, PageSnapshot.purged_at.is_(None))
    ):
        try:
            files[f"{prefix}snapshots/{snapshot.id}.html"] = store.get(snapshot.object_id)
        except QuarantineError:
            continue  # listed in the manifest (sha256) even when the file is gone
    agency_key = referral.agency.public_key
    if Share.MEDIA in shares_of(referral) and agency_key:
        recipient = parse_public_key(agency_key)
        for kept in session.scalars(
            select(QuarantinedMedia)
            .join(Item, Item.id == QuarantinedMedia.item_id)
            .where(Item.case_id == referral.case_id, QuarantinedMedia.purged_at.is_(None))
        ):
            try:
                files[f"{prefix}media/{kept.id}.enc"] = seal(recipient, store.get(kept.object_id))
            except QuarantineError:
                continue
    return files


def sign_and_pack(
    files: dict[str, bytes], manifest: dict[str, Any], keyring: SigningKeyring
) -> tuple[bytes, str, str]:
    """Add the signed manifest, the key and SHA256SUMS to ``files``; the package's
    bytes, their SHA-256 and the signing key's id."""
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    signature = keyring.sign(manifest_bytes)
    public = keyring.public_keys()[signature.key_id]
    files[MANIFEST] = manifest_bytes
    files[SIGNATURE] = signature.value
    files[SIGNATURE_INFO] = canonical_json(signature.to_json())
    files[PUBLIC_KEY] = public_key_pem(public).encode()
    sums = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    )
    files[SUMS] = sums.encode()
    data = pack(files)
    return data, hashlib.sha256(data).hexdigest(), signature.key_id


def build(
    session: Session,
    referral: Referral,
    *,
    cipher: FieldCipher,
    store: QuarantineStore,
    keyring: SigningKeyring,
    actor: str,
    actor_id: int | None,
    clock: Clock = system_clock,
) -> Package:
    """Build and sign the package; the export is recorded in the custody log and the
    audit trail (with the package's SHA-256) in the caller's transaction."""
    now = clock()
    files = case_files(session, referral, store)
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(timespec="seconds"),
        "shared": shared_case(session, referral, cipher=cipher),
        "custody": custody.exported(custody.log(session, referral.case_id)),
        "audit_events": case_audit_events(session, referral),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    data, digest, key_id = sign_and_pack(files, manifest, keyring)
    custody.append(
        session,
        referral.case_id,
        CustodyAction.EXPORTED,
        actor=actor,
        referral_id=referral.id,
        details={"sha256": digest, "key_id": key_id},
        clock=clock,
    )
    referral.package_sha256 = digest
    audit.record(
        session,
        AuditTag.EVIDENCE_EXPORTED,
        actor=audit.Actor.user(actor_id) if actor_id else audit.SYSTEM,
        target=(TargetKind.REFERRAL, referral.id),
        details={"case": referral.case_id, "sha256": digest, "files": len(files)},
        clock=clock,
    )
    return Package(data, digest, f"evidence-{referral.reference}.zip")
