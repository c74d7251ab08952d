"""A case as its reporter sees and changes it: the timeline, withdrawal (tombstones in
the hash feed), and the contact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks import banking
from reclaim.banks.domain import VERIFIED_BANKS, Category, EntrySource
from reclaim.banks.models import Bank, BankEntry
from reclaim.cases.domain import CaseStatus, Classification, ItemKind, MediaKind
from reclaim.cases.models import Case
from reclaim.config import Settings
from reclaim.intake.domain import Items
from reclaim.intake.reporter_case import (
    Step,
    change_contact,
    current_contact,
    mask_contact,
    timeline,
    withdraw_items,
)
from reclaim.intake.submission import add_items, submit_report
from reclaim.platforms.models import Platform
from reclaim.security.field_crypto import FieldCipher, field_cipher
from reclaim.takedown.domain import NoticeKind, NoticeStatus, PageOutcome
from reclaim.takedown.models import Notice, NoticePage
from reclaim.takedown.progress import CaseProgress, case_progress
from tests.support.intake import a_policy, a_report, hashed_file


@pytest.fixture
def cipher(settings: Settings) -> FieldCipher:
    return field_cipher(settings)


def new_case(session: Session, cipher: FieldCipher, **report: object) -> Case:
    receipt = submit_report(session, a_report(**report), policy=a_policy(), cipher=cipher)
    session.commit()
    case = session.scalar(select(Case).where(Case.number == receipt.case_number))
    assert case is not None
    return case


def entries(session: Session, bank: str = "self-reported") -> dict[str, BankEntry]:
    rows = session.scalars(select(BankEntry).join(Bank).where(Bank.name == bank))
    return {row.signal.value: row for row in rows}


def file_items(case: Case) -> list:  # type: ignore[type-arg]
    return [item for item in case.items if item.kind is ItemKind.FILE]


# --- the timeline --------------------------------------------------------------------


def test_a_new_case_has_only_been_received(session: Session, cipher: FieldCipher) -> None:
    case = new_case(session, cipher)
    steps = timeline(case, case_progress(session, case.id))
    assert [s.step for s in steps] == [Step.RECEIVED]
    assert steps[0].at == case.created_at


def test_the_timeline_follows_the_case(session: Session, cipher: FieldCipher) -> None:
    case = new_case(session, cipher)
    case.status = CaseStatus.AWAITING_REMOVAL
    progress = CaseProgress(sites=2, items=3, removed=1)
    steps = timeline(case, progress)
    assert [(s.step, s.count, s.total) for s in steps] == [
        (Step.RECEIVED, None, None),
        (Step.IN_REVIEW, None, None),
        (Step.NOTICES_SENT, 2, None),
        (Step.REMOVED, 1, 3),
    ]
    case.status = CaseStatus.RESOLVED
    assert timeline(case, progress)[-1].closed_as is CaseStatus.RESOLVED


def test_removal_progress_counts_notices_that_went_out(
    session: Session, cipher: FieldCipher
) -> None:
    case = new_case(session, cipher, urls=("https://a.example/1", "https://b.example/2"))
    first, second = (item for item in case.items if item.kind is ItemKind.URL)
    platforms = [Platform(name="Example A"), Platform(name="Example B")]
    session.add_all(platforms)
    session.flush()
    sent = datetime(2026, 3, 2, tzinfo=UTC)
    for number, (platform, item, outcome, sent_at) in enumerate(
        [
            (platforms[0], first, PageOutcome.REMOVED, sent),
            (platforms[1], second, PageOutcome.PARTIALLY_REMOVED, sent),
            (platforms[1], second, PageOutcome.PENDING, None),  # a draft: not sent
        ]
    ):
        assert item.page_id is not None
        notice = Notice(
            reference=f"N-{number}",
            platform_id=platform.id,
            kind=NoticeKind.CONTENT,
            status=NoticeStatus.SENT if sent_at else NoticeStatus.DRAFT,
            language="en",
            sent_at=sent_at,
        )
        notice.pages = [
            NoticePage(page_id=item.page_id, classification=Classification.CSAM, outcome=outcome)
        ]
        session.add(notice)
    session.flush()

    # A page with a picture still up is not removed: the reporter is told "partly".
    assert case_progress(session, case.id) == CaseProgress(2, 2, 1, partially=1)


# --- withdrawal ----------------------------------------------------------------------


def test_withdrawing_a_file_tombstones_its_hashes(session: Session, cipher: FieldCipher) -> None:
    keep, drop = hashed_file("keep"), hashed_file("drop")
    case = new_case(session, cipher, files=(keep, drop))
    before = {value: entry.change_seq for value, entry in entries(session).items()}
    dropped = file_items(case)[1]

    outcome = withdraw_items(session, case, {dropped.id})
    session.commit()

    after = entries(session)
    assert (outcome.items, outcome.tombstones, outcome.case_withdrawn) == (1, 3, False)
    for signal, _quality in drop.signals():
        tombstone = after[signal.value]
        assert tombstone.withdrawn_at is not None
        assert tombstone.withdrawn_reason == "withdrawn by the reporter"  # partners see why
        assert tombstone.change_seq > before[signal.value]
    assert all(after[s.value].withdrawn_at is None for s, _q in keep.signals())
    assert dropped.withdrawn_at is not None and case.status is CaseStatus.NEW
    events = session.scalars(select(AuditEvent.tag)).all()
    assert AuditTag.REPORT_ITEM_WITHDRAWN.value in events
    assert AuditTag.SIGNAL_WITHDRAWN.value in events
    assert audit.verify_chain(session).ok


def test_a_hash_another_live_report_holds_stays_in_the_bank(
    session: Session, cipher: FieldCipher
) -> None:
    shared = hashed_file("shared photo")
    mine = new_case(session, cipher, files=(shared,))
    new_case(session, cipher, files=(shared,))  # someone else reported the same file

    outcome = withdraw_items(session, mine, None)
    session.commit()

    assert outcome.tombstones == 0
    assert all(e.withdrawn_at is None for e in entries(session).values())
    withdrawn = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.SIGNAL_WITHDRAWN.value)
    ).all()
    assert withdrawn == []


def test_withdrawing_everything_withdraws_the_case(session: Session, cipher: FieldCipher) -> None:
    case = new_case(session, cipher)

    outcome = withdraw_items(session, case, None)
    session.commit()

    assert outcome.case_withdrawn and case.status is CaseStatus.WITHDRAWN
    assert all(item.withdrawn_at is not None for item in case.items)
    assert [s.step for s in timeline(case, CaseProgress(0, 0, 0))] == [Step.RECEIVED, Step.CLOSED]
    again = withdraw_items(session, case, None)
    assert (again.items, again.tombstones) == (0, 0)


def test_ids_of_other_cases_items_are_ignored(session: Session, cipher: FieldCipher) -> None:
    mine = new_case(session, cipher)
    theirs = new_case(session, cipher, files=(hashed_file("theirs"),))

    outcome = withdraw_items(session, mine, {item.id for item in theirs.items})

    assert outcome.items == 0
    assert all(item.withdrawn_at is None for item in theirs.items)


def test_an_analysts_confirmed_hashes_are_not_the_reporters_to_withdraw(
    session: Session, cipher: FieldCipher
) -> None:
    photo = hashed_file("confirmed photo")
    case = new_case(session, cipher, files=(photo,))
    csam = VERIFIED_BANKS[Category.CSAM]
    banking.add_signals(
        session,
        banking.get_bank(session, csam),
        [
            banking.NewEntry(s, q, verified=True, category=Category.CSAM, verified_via="test")
            for s, q in photo.signals()
        ],
        source=EntrySource.DECISION,
        source_ref=case.number,
        min_pdq_quality=50,
    )

    withdraw_items(session, case, None)
    session.commit()

    assert all(e.withdrawn_at is not None for e in entries(session).values())
    assert all(e.withdrawn_at is None for e in entries(session, csam).values())


def test_adding_a_withdrawn_file_again_brings_its_hashes_back(
    session: Session, cipher: FieldCipher
) -> None:
    photo = hashed_file("photo", kind=MediaKind.VIDEO)
    case = new_case(session, cipher, files=(photo,))
    withdraw_items(session, case, None)

    add_items(session, case, Items((), (photo,)), policy=a_policy())
    session.commit()

    assert all(e.withdrawn_at is None for e in entries(session).values())
    assert case.status is CaseStatus.IN_REVIEW  # it was withdrawn: reopened


# --- the contact ---------------------------------------------------------------------


def test_the_contact_can_be_changed_and_removed(session: Session, cipher: FieldCipher) -> None:
    case = new_case(session, cipher, contact="old@example.com", contact_consent=True)
    assert current_contact(case, cipher) == "old@example.com"

    change_contact(session, case, "+886 912 345 678", cipher=cipher)
    assert current_contact(case, cipher) == "+886 912 345 678"
    assert "912" not in (case.reports[0].contact or "")

    change_contact(session, case, None, cipher=cipher)
    session.commit()
    assert current_contact(case, cipher) is None
    assert (case.reports[0].contact, case.reports[0].contact_consent) == (None, False)
    changes = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.REPORT_CONTACT_CHANGED.value)
    ).all()
    assert [c.details for c in changes] == [{"removed": False}, {"removed": True}]


@pytest.mark.parametrize(
    ("contact", "shown"),
    [
        ("kid@example.com", "k••@example.com"),
        ("+886 912 345 678", "+••• ••• ••• 678"),
    ],
)
def test_contacts_are_shown_masked(contact: str, shown: str) -> None:
    assert mask_contact(contact) == shown


def test_re_adding_after_withdrawing_everything_does_not_claim_a_review(
    session: Session, cipher: FieldCipher
) -> None:
    from reclaim.intake.domain import Items
    from reclaim.intake.reporter_case import staff_has_looked
    from reclaim.intake.submission import add_items
    from tests.support.intake import a_policy, hashed_file

    case = new_case(session, cipher)
    withdraw_items(session, case, None)
    add_items(session, case, Items((), (hashed_file("again"),)), policy=a_policy())
    session.commit()

    assert case.status is CaseStatus.IN_REVIEW  # back in the queue for an analyst
    assert not staff_has_looked(session, case)
    steps = timeline(case, CaseProgress(0, 0, 0), staff_looked=False)
    assert [s.step for s in steps] == [Step.RECEIVED]
    assert [s.step for s in timeline(case, CaseProgress(0, 0, 0), staff_looked=True)] == [
        Step.RECEIVED,
        Step.IN_REVIEW,
    ]
