"""Key rotation: fields and quarantine move to the new key in batches, the old key is
retirable only when nothing uses it, and a new audit key starts a recorded segment."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.audit.keys import AuditKeyring, bind_keyring
from reclaim.audit.models import AuditEvent
from reclaim.cases.models import CaseNote, Report
from reclaim.fetching.quarantine.keys import Keyring
from reclaim.fetching.quarantine.store import QuarantineStore
from reclaim.intake.submission import submit_report
from reclaim.keys.rotation import (
    ENCRYPTED_COLUMNS,
    PLAIN,
    key_id_of,
    record_audit_rotation,
    reencrypt_all,
    reencrypt_batch,
    usage,
)
from reclaim.linkage.domain import IdentifierKind
from reclaim.linkage.models import OffenderIdentifier
from reclaim.platforms.models import Platform
from reclaim.security.field_crypto import FieldCipher, Purpose
from reclaim.storage.db import make_session_factory
from tests.support.cases import make_user
from tests.support.intake import a_policy, a_report
from tests.support.settings import TEST_AUDIT_KEY

OLD = base64.b64encode(secrets.token_bytes(32)).decode()
NEW = base64.b64encode(secrets.token_bytes(32)).decode()


def test_every_encrypted_purpose_is_rotated() -> None:
    assert set(ENCRYPTED_COLUMNS) == set(Purpose)


def _arrange(session: Session, cipher: FieldCipher, store: QuarantineStore) -> None:
    for n in range(3):
        submit_report(
            session,
            a_report(contact=f"reporter-{n}@example.org", contact_consent=True),
            policy=a_policy(),
            cipher=cipher,
            hash_pin=lambda pin: f"test${pin}",
        )
    user = make_user(session)
    user.totp_secret = cipher.encrypt("JBSWY3DPEHPK3PXP", purpose=Purpose.USER_TOTP)
    report = session.scalars(select(Report).order_by(Report.id)).first()
    assert report is not None
    # Typed before descriptions were encrypted: rotation encrypts it under the new key.
    report.description = "typed before encryption"
    report.threat_account = cipher.encrypt("@someone", purpose=Purpose.REPORT_THREAT_ACCOUNT)
    session.add(
        OffenderIdentifier(
            kind=IdentifierKind.HANDLE,
            lookup="0" * 64,
            value=cipher.encrypt("someone", purpose=Purpose.OFFENDER_IDENTIFIER),
        )
    )
    session.add(
        CaseNote(
            case_id=report.case_id,
            author_id=user.id,
            body=cipher.encrypt("note 案件", purpose=Purpose.CASE_NOTE),
        )
    )
    session.add(
        Platform(
            name="Example",
            webhook_secret=cipher.encrypt("hook-secret", purpose=Purpose.WEBHOOK_SECRET),
        )
    )
    session.commit()
    for n in range(4):
        store.put(f"object-{n}", f"synthetic {n}".encode())


def test_encryption_rotation_moves_everything_then_the_old_key_is_unused(
    engine: Engine, tmp_path: Path
) -> None:
    sessions = make_session_factory(engine)
    old_ring = Keyring.from_base64("k1", {"k1": OLD})
    directory = tmp_path / "quarantine"
    with sessions() as session:
        _arrange(session, FieldCipher(old_ring), QuarantineStore(directory, old_ring))
    # The operator adds k2 and makes it current: new values use it at once.
    both = Keyring.from_base64("k2", {"k1": OLD, "k2": NEW})
    cipher, store = FieldCipher(both), QuarantineStore(directory, both)
    assert key_id_of(cipher.encrypt("x", purpose=Purpose.CASE_NOTE)) == "k2"
    with sessions() as session:
        before = usage(session, store)
    assert before.by_key["k1"] == {
        "report.contact": 3,
        "report.description": 2,
        "report.threat_account": 1,
        "user.totp": 1,
        "case.note": 1,
        "platform.webhook_secret": 1,
        "linkage.identifier": 1,
        "quarantine": 4,
    }
    assert before.by_key[PLAIN] == {"report.description": 1}
    assert before.total("k2") == 0

    partial = reencrypt_batch(sessions, cipher, store, "k2", batch_size=1)
    assert (partial.values, partial.objects) == (7, 1)  # one per column, one object
    with sessions() as session:
        left = usage(session, store)
        assert left.total("k1") + left.total(PLAIN) == 15 - 8
    rest = reencrypt_all(sessions, cipher, store, "k2", batch_size=2)
    assert (rest.values, rest.objects) == (4, 3)

    with sessions() as session:
        after = usage(session, store)
        assert after.total("k1") == after.total(PLAIN) == 0 and after.total("k2") == 15
        # Everything reads with k2 alone: k1 can leave the settings.
        only_new = FieldCipher(Keyring.from_base64("k2", {"k2": NEW}))
        contacts = {
            only_new.decrypt(value, purpose=Purpose.REPORT_CONTACT)
            for value in session.scalars(select(Report.contact))
            if value
        }
        assert contacts == {f"reporter-{n}@example.org" for n in range(3)}
        note = session.scalars(select(CaseNote.body)).one()
        assert only_new.decrypt(note, purpose=Purpose.CASE_NOTE) == "note 案件"
        descriptions = {
            only_new.decrypt(value, purpose=Purpose.REPORT_DESCRIPTION)
            for value in session.scalars(select(Report.description))
        }
        assert descriptions == {"typed before encryption", "Someone posted my photo."}
        rotated = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.ENCRYPTION_KEY_ROTATED.value)
        ).one()
        assert rotated.details == {"to_key_id": "k2", "values": 4, "objects": 3}
    new_store = QuarantineStore(directory, Keyring.from_base64("k2", {"k2": NEW}))
    assert new_store.get("object-2") == b"synthetic 2"
    assert reencrypt_batch(sessions, cipher, store, "k2").done


def test_a_new_audit_key_starts_a_recorded_segment(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        for _ in range(3):
            audit.record(session, AuditTag.CASE_VIEWED, actor=audit.SYSTEM)
        assert record_audit_rotation(session) is None  # still the same key: nothing to do
    new_key = base64.b64encode(secrets.token_bytes(32)).decode()
    both = AuditKeyring.from_base64("a2", {"a1": TEST_AUDIT_KEY, "a2": new_key})
    bind_keyring(engine, both)
    with sessions.begin() as session:
        event = record_audit_rotation(session)
        assert event is not None and event.id == 4
        assert event.key_id == "a2"
        assert event.details == {"from_key_id": "a1", "to_key_id": "a2"}
        audit.record(session, AuditTag.CASE_VIEWED, actor=audit.SYSTEM)
    with sessions() as session:
        assert audit.verify_chain(session).ok
        keys = [e.key_id for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert keys == ["a1", "a1", "a1", "a2", "a2"]
        # The retired key must stay in the settings: without it the old segment fails.
        alone = AuditKeyring.from_base64("a2", {"a2": new_key})
        check = audit.verify_chain(session, keyring=alone)
        assert check.first_bad_id == 1 and "unknown audit key 'a1'" in (check.problem or "")
