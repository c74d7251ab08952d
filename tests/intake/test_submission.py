"""Intake: a report becomes a case with items, hashes in the self-reported bank, and a
case number + PIN; retries find the report they already made."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks.domain import UNVERIFIED_BANK, VERIFIED_BANKS, EntrySource
from reclaim.banks.models import Bank, BankEntry
from reclaim.cases.domain import CaseStatus, ItemKind, MediaKind, Situation
from reclaim.cases.models import Case
from reclaim.config import Settings
from reclaim.domain.signals import SignalType
from reclaim.intake.domain import Items
from reclaim.intake.submission import Receipt, add_items, derive_pin, submit_report
from reclaim.security.field_crypto import FieldCipher, Purpose, field_cipher
from reclaim.security.secret_hashes import verify_secret
from tests.support.cases import signal_links
from tests.support.clock import FakeClock
from tests.support.intake import a_policy, a_report, hashed_file, row_counts


@pytest.fixture
def cipher(settings: Settings) -> FieldCipher:
    return field_cipher(settings)


def submit(session: Session, cipher: FieldCipher, report=None, **options) -> Receipt:  # type: ignore[no-untyped-def]
    options.setdefault("policy", a_policy())
    receipt = submit_report(session, report or a_report(), cipher=cipher, **options)
    session.commit()
    return receipt


def the_case(session: Session, receipt: Receipt) -> Case:
    case = session.scalar(select(Case).where(Case.number == receipt.case_number))
    assert case is not None
    return case


def bank_entries(session: Session, bank: str = "self-reported") -> list[BankEntry]:
    return list(
        session.scalars(
            select(BankEntry).join(Bank).where(Bank.name == bank).order_by(BankEntry.id)
        )
    )


def test_a_report_becomes_a_case_with_items_and_a_pin(
    session: Session, cipher: FieldCipher
) -> None:
    video = hashed_file("clip", kind=MediaKind.VIDEO)
    report = a_report(
        urls=("https://forum.example.net/t/1", "https://img.example.org/a.jpg"),
        files=(hashed_file("photo"), video),
    )

    receipt = submit(session, cipher, report)

    case = the_case(session, receipt)
    assert receipt.pin is not None and len(receipt.pin) == 8 and receipt.pin.isdigit()
    assert verify_secret(case.pin_hash, receipt.pin)
    assert receipt.pin not in case.pin_hash
    assert (case.status, case.urgent, receipt.repeated) == (CaseStatus.NEW, False, False)
    [row] = case.reports
    # Only the key's digest is kept: the PIN is derived from the key itself.
    assert row.idempotency_key == hashlib.sha256(report.idempotency_key.encode()).hexdigest()
    assert (row.reporter_role, row.language, row.contact) == (report.reporter_role, "zh_TW", None)
    assert [i.url for i in case.items if i.kind is ItemKind.URL] == list(report.urls)
    files = [i for i in case.items if i.kind is ItemKind.FILE]
    assert [f.media_kind for f in files] == [MediaKind.IMAGE, MediaKind.VIDEO]
    assert {
        (link.signal.type, link.signal.value, link.quality) for link in signal_links(files[0])
    } == {
        (SignalType.MD5, report.files[0].md5.value, None),
        (SignalType.SHA256, report.files[0].sha256.value, None),
        (SignalType.PDQ, report.files[0].pdq.value, 90),  # type: ignore[union-attr]
    }
    assert {link.signal.type for link in signal_links(files[1])} == {
        SignalType.MD5,
        SignalType.SHA256,
    }


def test_the_contact_is_stored_encrypted(session: Session, cipher: FieldCipher) -> None:
    receipt = submit(session, cipher, a_report(contact="kid@example.com", contact_consent=True))

    case = the_case(session, receipt)
    raw = session.execute(
        text("SELECT contact FROM reports WHERE case_id = :id"), {"id": case.id}
    ).scalar_one()
    assert "kid@example.com" not in raw and "example" not in raw
    assert cipher.decrypt(raw, purpose=Purpose.REPORT_CONTACT) == "kid@example.com"
    assert case.reports[0].contact_consent is True


def test_file_hashes_enter_the_self_reported_bank_at_once(
    session: Session, cipher: FieldCipher
) -> None:
    report = a_report(files=(hashed_file("a"), hashed_file("b", kind=MediaKind.VIDEO)))

    receipt = submit(session, cipher, report)

    entries = bank_entries(session)
    assert {(e.signal.type, e.signal.value) for e in entries} == {
        (s.type, s.value) for f in report.files for s, _q in f.signals()
    }
    assert {(e.source, e.source_ref, e.verified) for e in entries} == {
        (EntrySource.REPORT, receipt.case_number, False)
    }
    assert [e.quality for e in entries if e.signal.type is SignalType.PDQ] == [90]
    for bank in (*VERIFIED_BANKS.values(), UNVERIFIED_BANK):
        assert bank_entries(session, bank) == []
    banked = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.SIGNAL_BANKED.value)
    ).one()
    assert banked.details["added"] == 5
    assert banked.details["case"] == receipt.case_number


def test_a_low_quality_pdq_is_kept_on_its_item_but_not_banked(
    session: Session, cipher: FieldCipher
) -> None:
    flat = hashed_file("flat", quality=12)

    receipt = submit(session, cipher, a_report(files=(flat,)))

    kinds = {e.signal.type for e in bank_entries(session)}
    assert kinds == {SignalType.MD5, SignalType.SHA256}
    [item] = [i for i in the_case(session, receipt).items if i.kind is ItemKind.FILE]
    assert flat.pdq is not None
    assert (flat.pdq.value, 12) in {
        (link.signal.value, link.quality) for link in signal_links(item)
    }


@pytest.mark.parametrize(
    ("situation", "urgent"),
    [(Situation.ONLINE, False), (Situation.THREAT, True), (Situation.BOTH, True)],
)
def test_a_threat_makes_the_case_urgent(
    session: Session, cipher: FieldCipher, situation: Situation, urgent: bool
) -> None:
    receipt = submit(session, cipher, a_report(situation=situation))

    assert receipt.urgent is urgent
    assert the_case(session, receipt).urgent is urgent
    assert len(bank_entries(session)) == 3  # urgent or not, hashes are banked at once


def test_a_retry_gets_the_same_case_and_pin(session: Session, cipher: FieldCipher) -> None:
    report = a_report()
    first = submit(session, cipher, report)
    counts = row_counts(session)

    again = submit(session, cipher, report)

    assert (again.case_number, again.pin, again.repeated) == (first.case_number, first.pin, True)
    assert row_counts(session) == counts


def test_a_retry_after_the_window_does_not_show_the_pin(
    session: Session, cipher: FieldCipher
) -> None:
    clock = FakeClock()
    report = a_report()
    first = submit(session, cipher, report, clock=clock)
    clock.now += timedelta(minutes=29)
    assert submit(session, cipher, report, clock=clock).pin == first.pin

    clock.now += timedelta(minutes=2)
    late = submit(session, cipher, report, clock=clock)

    assert (late.case_number, late.pin) == (first.case_number, None)


def test_a_retry_does_not_show_a_pin_that_was_replaced(
    session: Session, cipher: FieldCipher
) -> None:
    report = a_report()
    first = submit(session, cipher, report)
    case = the_case(session, first)
    case.pin_hash = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$bm90IHRoZSBwaW4gaGFzaA"
    session.commit()

    assert submit(session, cipher, report).pin is None


def test_pins_come_from_the_key_and_the_secret() -> None:
    assert derive_pin(b"s" * 32, "key-one-key-one-1") == derive_pin(b"s" * 32, "key-one-key-one-1")
    pins = {derive_pin(b"s" * 32, f"key-{n}-padding-padding") for n in range(200)}
    assert len(pins) > 190  # eight digits: collisions are rare
    assert derive_pin(b"t" * 32, "key-one-key-one-1") != derive_pin(b"s" * 32, "key-one-key-one-1")


def test_the_audit_trail_records_the_report_without_personal_data(
    session: Session, cipher: FieldCipher
) -> None:
    receipt = submit(
        session,
        cipher,
        a_report(description="my secret story", contact="+886 912 345 678", contact_consent=True),
    )

    case = the_case(session, receipt)
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.REPORT_RECEIVED.value)
    ).one()
    assert (event.actor_type, event.actor_id, event.target_id) == ("reporter", case.id, case.id)
    assert event.details["urls"] == 1 and event.details["files"] == 1
    flattened = str([e.details for e in session.scalars(select(AuditEvent))])
    assert "secret story" not in flattened and "912" not in flattened
    assert audit.verify_chain(session).ok


def test_adding_items_skips_what_the_case_already_holds(
    session: Session, cipher: FieldCipher
) -> None:
    report = a_report(urls=("https://a.example/1",), files=(hashed_file("one"),))
    case = the_case(session, submit(session, cipher, report))

    added = add_items(
        session,
        case,
        Items(
            urls=("https://a.example/1", "https://b.example/2"),
            files=(hashed_file("one"), hashed_file("two")),
        ),
        policy=a_policy(),
    )
    session.commit()

    assert (added.urls, added.files, added.already_there) == (1, 1, 2)
    assert len(case.items) == 4
    assert {i.report_id for i in case.items[2:]} == {None}
    assert len(bank_entries(session)) == 6
    again = add_items(session, case, Items(("https://b.example/2",), ()), policy=a_policy())
    assert (again.urls, again.files, again.already_there) == (0, 0, 1)
    tags = list(session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))
    assert tags.count(AuditTag.REPORT_ITEMS_ADDED.value) == 1


def test_adding_to_a_closed_case_reopens_it(session: Session, cipher: FieldCipher) -> None:
    case = the_case(session, submit(session, cipher))
    case.status = CaseStatus.RESOLVED
    session.commit()

    add_items(session, case, Items(("https://c.example/3",), ()), policy=a_policy())
    session.commit()

    assert case.status is CaseStatus.IN_REVIEW
    change = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.CASE_STATUS_CHANGED.value)
    ).one()
    assert change.details["from"] == "resolved" and change.actor_type == "reporter"


def test_reported_urls_are_matched_to_their_platforms(
    session: Session, cipher: FieldCipher
) -> None:
    from reclaim.platforms.directory import import_records, seed_records

    import_records(session, seed_records(), actor=audit.SYSTEM)
    receipt = submit(
        session,
        cipher,
        a_report(urls=("https://www.dcard.tw/f/x/p/1", "https://unknown.example/a.jpg")),
    )
    owners = {
        item.url: item.page.platform.name if item.page and item.page.platform else None
        for item in the_case(session, receipt).items
        if item.kind == ItemKind.URL
    }
    assert owners == {
        "https://www.dcard.tw/f/x/p/1": "Dcard",
        "https://unknown.example/a.jpg": None,
    }


def test_a_url_already_reported_is_the_same_page(session: Session, cipher: FieldCipher) -> None:
    first = submit(session, cipher, a_report(urls=("https://forum.example.net/t/9",), files=()))
    again = submit(
        session,
        cipher,
        a_report(urls=("https://forum.example.net/t/9#post-3",), files=()),
    )
    (one,) = the_case(session, first).items
    (two,) = the_case(session, again).items
    assert one.case_id != two.case_id
    assert one.page_id is not None and one.page_id == two.page_id
    assert two.url == "https://forum.example.net/t/9#post-3"  # as the reporter wrote it


def test_the_description_is_stored_encrypted(session: Session, cipher: FieldCipher) -> None:
    from reclaim.cases.case_view import report_description
    from reclaim.cases.models import Report

    case = the_case(session, submit(session, cipher, a_report(description="我在台北的學校")))
    [report] = session.scalars(select(Report).where(Report.case_id == case.id)).all()
    assert report.description is not None and "台北" not in report.description
    assert report_description(report, cipher) == "我在台北的學校"
