"""Rotating the encryption key (fields and quarantine) and the audit key.

The encryption keyring (``RECLAIM_QUARANTINE_KEYS``) serves both the encrypted
database fields and the quarantine.  Rotation is three steps, none of which stops the
service:

1. the operator adds a new key and makes it current in the settings (restart): from
   then on every new value and object is encrypted under it;
2. :func:`reencrypt_batch` (the hourly ``reclaim.reencrypt`` job, or ``reclaim keys
   rotate encryption`` in the foreground) re-encrypts older values and objects under
   the current key, a batch per transaction, each value only if nobody changed it
   meanwhile;
3. when :func:`usage` shows an old key unused, ``reclaim keys retire ID`` confirms it
   and the operator removes it from the settings.

The audit key needs no re-encryption: rows keep the key that hashed them.  Making a new
audit key current starts a new segment of the chain; :func:`record_audit_rotation`
writes the row that says so, under the new key.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from reclaim import audit
from reclaim.accounts.models import User
from reclaim.audit.domain import ActorKind, AuditTag
from reclaim.audit.keys import keyring_for
from reclaim.audit.models import AuditEvent
from reclaim.cases.models import CaseNote, Report
from reclaim.fetching.quarantine.store import QuarantineStore
from reclaim.linkage.models import OffenderIdentifier
from reclaim.platforms.models import Platform
from reclaim.security.field_crypto import FieldCipher, FieldDecryptionError, Purpose

#: Every encrypted column, by purpose (a test fails when a Purpose is missing here).
ENCRYPTED_COLUMNS: dict[Purpose, tuple[type[Any], InstrumentedAttribute[Any]]] = {
    Purpose.REPORT_CONTACT: (Report, Report.contact),
    Purpose.CASE_NOTE: (CaseNote, CaseNote.body),
    Purpose.USER_TOTP: (User, User.totp_secret),
    Purpose.WEBHOOK_SECRET: (Platform, Platform.webhook_secret),
    Purpose.REPORT_DESCRIPTION: (Report, Report.description),
    Purpose.REPORT_THREAT_ACCOUNT: (Report, Report.threat_account),
    Purpose.OFFENDER_IDENTIFIER: (OffenderIdentifier, OffenderIdentifier.value),
}
# Columns that may still hold values from before they were encrypted (descriptions were
# stored as typed until issue 16): rotation encrypts those under the current key.
LEGACY_PLAINTEXT = frozenset({Purpose.REPORT_DESCRIPTION})
PLAIN = "plain"
QUARANTINE = "quarantine"


def key_id_of(stored: str) -> str:
    """The key id a stored ``v1.<key id>.<body>`` value names (``plain`` for a value
    stored before its column was encrypted)."""
    if not stored.startswith("v1."):
        return PLAIN
    head, _, _ = stored.rpartition(".")
    return head.partition(".")[2]


@dataclass
class Usage:
    """How many values (per purpose) and quarantine objects each key id still encrypts."""

    by_key: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, key_id: str, where: str, count: int = 1) -> None:
        self.by_key.setdefault(key_id, Counter())[where] += count

    def total(self, key_id: str) -> int:
        return sum(self.by_key.get(key_id, Counter()).values())


def usage(session: Session, store: QuarantineStore) -> Usage:
    found = Usage()
    for purpose, (_, column) in ENCRYPTED_COLUMNS.items():
        for value in session.scalars(select(column).where(column.is_not(None))):
            found.add(key_id_of(value), purpose.value)
    for entry in store.entries():
        found.add(entry.key_id or "?", QUARANTINE)
    return found


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    values: int
    objects: int

    @property
    def done(self) -> bool:
        return self.values == 0 and self.objects == 0


def reencrypt_batch(
    sessions: sessionmaker[Session],
    cipher: FieldCipher,
    store: QuarantineStore,
    current_key_id: str,
    *,
    batch_size: int = 500,
) -> BatchOutcome:
    """Re-encrypt up to ``batch_size`` values per column and objects under the current
    key; a result with nothing done means nothing is left under an older key."""
    prefix = f"v1.{current_key_id}."
    values = 0
    for purpose, (model, column) in ENCRYPTED_COLUMNS.items():
        with sessions.begin() as session:
            rows = session.execute(
                select(model.id, column)
                .where(column.is_not(None), ~column.startswith(prefix, autoescape=True))
                .limit(batch_size)
            ).all()
            for row_id, old in rows:
                new = cipher.encrypt(_plaintext(cipher, old, purpose), purpose=purpose)
                # Only if nobody changed the value meanwhile (their write is newer).
                session.execute(
                    update(model).where(model.id == row_id, column == old).values({column: new})
                )
            values += len(rows)
    # The listing is read whole (headers only) before anything is rewritten in it.
    stale = [entry.object_id for entry in store.entries() if entry.key_id != current_key_id]
    for object_id in stale[:batch_size]:
        store.reencrypt(object_id)
    return BatchOutcome(values, len(stale[:batch_size]))


def _plaintext(cipher: FieldCipher, stored: str, purpose: Purpose) -> str:
    try:
        return cipher.decrypt(stored, purpose=purpose)
    except FieldDecryptionError:
        if purpose in LEGACY_PLAINTEXT and key_id_of(stored) == PLAIN:
            return stored  # typed before the column was encrypted
        raise


def record_audit_rotation(session: Session) -> AuditEvent | None:
    """Record the start of a new audit-key segment; None if the newest row already uses
    the current audit key (make a new key current in the settings first)."""
    current = keyring_for(session).current_key_id
    newest = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()
    previous = newest.key_id if newest is not None else None
    if newest is not None and previous == current:
        return None
    return audit.record(
        session,
        AuditTag.AUDIT_KEY_ROTATED,
        actor=audit.Actor(ActorKind.OPERATOR),
        details={"from_key_id": previous, "to_key_id": current},
    )


def reencrypt_all(
    sessions: sessionmaker[Session],
    cipher: FieldCipher,
    store: QuarantineStore,
    current_key_id: str,
    *,
    batch_size: int = 500,
) -> BatchOutcome:
    """Re-encrypt everything under older keys, batch after batch; record the rotation in
    the audit trail when anything moved."""
    values = objects = 0
    while not (
        outcome := reencrypt_batch(sessions, cipher, store, current_key_id, batch_size=batch_size)
    ).done:
        values += outcome.values
        objects += outcome.objects
    if values or objects:
        with sessions.begin() as session:
            audit.record(
                session,
                AuditTag.ENCRYPTION_KEY_ROTATED,
                actor=audit.SYSTEM,
                details={"to_key_id": current_key_id, "values": values, "objects": objects},
            )
    return BatchOutcome(values, objects)
