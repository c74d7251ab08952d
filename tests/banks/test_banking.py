from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.banks.banking import (
    BankError,
    NewEntry,
    add_signals,
    create_bank,
    ensure_builtin_banks,
    get_bank,
    withdraw_signals,
)
from reclaim.banks.contents import active_entries, bank_stats
from reclaim.banks.domain import (
    BUILTIN_BANKS,
    SELF_REPORTED_BANK,
    UNVERIFIED_BANK,
    VERIFIED_BANKS,
    Category,
    EntrySource,
)
from reclaim.banks.models import BankEntry
from reclaim.domain.signals import Signal

PDQ_A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
PDQ_B = "0" * 63 + "1"
MD5 = "d35c785545392755e7e4164457657269"


def pdq(value: str, quality: int | None = 100) -> NewEntry:
    return NewEntry(Signal.parse("pdq", value), quality)


def add(session: Session, bank_name: str, entries: list[NewEntry], **kwargs: object):  # type: ignore[no-untyped-def]
    bank = get_bank(session, bank_name)
    return add_signals(
        session,
        bank,
        entries,
        source=EntrySource.REPORT,
        source_ref="case:1",
        min_pdq_quality=50,
        **kwargs,  # type: ignore[arg-type]
    )


def test_builtin_banks_exist_once(session: Session) -> None:
    ensure_builtin_banks(session)
    ensure_builtin_banks(session)
    names = [s.name for s in bank_stats(session)]
    assert names == sorted(BUILTIN_BANKS)
    assert set(VERIFIED_BANKS.values()) < set(names)


def test_adding_is_idempotent(session: Session) -> None:
    ensure_builtin_banks(session)
    first = add(session, SELF_REPORTED_BANK, [pdq(PDQ_A), NewEntry(Signal.parse("md5", MD5))])
    again = add(session, SELF_REPORTED_BANK, [pdq(PDQ_A), pdq(PDQ_A)])
    assert (first.added, first.unchanged) == (2, 0)
    assert (again.added, again.unchanged) == (0, 1)
    stats = {s.name: s for s in bank_stats(session)}[SELF_REPORTED_BANK]
    assert stats.active == {"pdq": 1, "md5": 1}


def test_low_quality_pdq_is_not_banked_and_the_caller_is_told(session: Session) -> None:
    ensure_builtin_banks(session)
    outcome = add(session, SELF_REPORTED_BANK, [pdq(PDQ_A, quality=49), pdq(PDQ_B, quality=50)])
    assert outcome.added == 1
    [(signal, reason)] = outcome.rejected
    assert signal.value == PDQ_A
    assert "quality 49" in reason and "threshold 50" in reason


def test_the_same_signal_in_two_banks_is_two_entries_of_one_signal(session: Session) -> None:
    ensure_builtin_banks(session)
    add(session, SELF_REPORTED_BANK, [pdq(PDQ_A)])
    add(session, UNVERIFIED_BANK, [pdq(PDQ_A)])
    entries = session.scalars(select(BankEntry)).all()
    assert len(entries) == 2
    assert len({e.signal_id for e in entries}) == 1


def test_withdrawal_leaves_a_tombstone_with_a_later_change(session: Session) -> None:
    ensure_builtin_banks(session)
    add(session, SELF_REPORTED_BANK, [pdq(PDQ_A), pdq(PDQ_B)])
    bank = get_bank(session, SELF_REPORTED_BANK)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    [withdrawn] = withdraw_signals(session, bank, [Signal.parse("pdq", PDQ_A)], clock=lambda: later)
    assert withdrawn.withdrawn_at == later
    sequences = sorted(session.scalars(select(BankEntry.change_seq)))
    assert withdrawn.change_seq == max(sequences)
    assert len(set(sequences)) == 2
    assert [r.signal.value for r in active_entries(session, bank)] == [PDQ_B]
    stats = {s.name: s for s in bank_stats(session)}[SELF_REPORTED_BANK]
    assert (stats.total_active, stats.withdrawn) == (1, 1)
    # Withdrawing again changes nothing.
    assert withdraw_signals(session, bank, [Signal.parse("pdq", PDQ_A)]) == []


def test_re_adding_a_withdrawn_signal_reactivates_it(session: Session) -> None:
    ensure_builtin_banks(session)
    add(session, SELF_REPORTED_BANK, [pdq(PDQ_A)])
    bank = get_bank(session, SELF_REPORTED_BANK)
    withdraw_signals(session, bank, [Signal.parse("pdq", PDQ_A)])
    outcome = add(session, SELF_REPORTED_BANK, [pdq(PDQ_A)])
    assert outcome.reactivated == 1
    assert [r.signal.value for r in active_entries(session, bank)] == [PDQ_A]


def test_change_sequence_numbers_are_unique_and_increasing(session: Session) -> None:
    ensure_builtin_banks(session)
    values = [f"{i:064x}" for i in range(1, 30)]
    add(session, SELF_REPORTED_BANK, [pdq(v) for v in values[:10]])
    add(session, UNVERIFIED_BANK, [pdq(v) for v in values[10:]])
    rows = session.execute(select(BankEntry.id, BankEntry.change_seq).order_by(BankEntry.id)).all()
    sequences = [seq for _, seq in rows]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == len(sequences) == 29


@pytest.mark.parametrize("name", ["", "Has Caps", "-leading", "x" * 65, "spaces here", "ü"])
def test_bank_names_are_validated(session: Session, name: str) -> None:
    with pytest.raises(BankError):
        create_bank(session, name, "", actor=audit.SYSTEM)


def test_creating_a_bank_twice_is_refused_and_audited_once(session: Session) -> None:
    create_bank(session, "hotline-kr", "List from another hotline", actor=audit.SYSTEM)
    with pytest.raises(BankError, match="already exists"):
        create_bank(session, "hotline-kr", "", actor=audit.SYSTEM)
    assert audit.verify_chain(session).rows_checked == 1


def test_unknown_bank_names_the_known_ones(session: Session) -> None:
    ensure_builtin_banks(session)
    with pytest.raises(BankError, match="self-reported"):
        get_bank(session, "nope")


def test_stats_report_the_last_change(session: Session) -> None:
    ensure_builtin_banks(session)
    moment = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    add(session, UNVERIFIED_BANK, [pdq(PDQ_A)], clock=lambda: moment)
    add(session, UNVERIFIED_BANK, [pdq(PDQ_B)], clock=lambda: moment + timedelta(hours=1))
    stats = {s.name: s for s in bank_stats(session)}[UNVERIFIED_BANK]
    assert stats.last_change == moment + timedelta(hours=1)


def seen(value: str, category: Category = Category.CSAM) -> NewEntry:
    return NewEntry(
        Signal.parse("pdq", value), 100, verified=True, category=category, verified_via="user:7"
    )


def test_a_verified_bank_takes_only_what_someone_saw_of_its_own_category(
    session: Session,
) -> None:
    ensure_builtin_banks(session)
    csam = VERIFIED_BANKS[Category.CSAM]
    outcome = add(session, csam, [pdq(PDQ_A), seen(PDQ_B, Category.ADULT_NCII)])
    assert outcome.added == 0
    reasons = {s.value: r for s, r in outcome.rejected}
    assert "only verified hashes" in reasons[PDQ_A]
    assert "csam only, not adult_ncii" in reasons[PDQ_B]
    # Verified hashes of its own category go in, and carry who vouched for them.
    assert add(session, csam, [seen(PDQ_B)]).added == 1
    (entry,) = session.scalars(select(BankEntry)).all()
    assert (entry.category, entry.verified, entry.verified_via) == (
        Category.CSAM,
        True,
        "user:7",
    )


def test_an_unverified_bank_never_claims_verified(session: Session) -> None:
    ensure_builtin_banks(session)
    outcome = add(session, SELF_REPORTED_BANK, [seen(PDQ_A)])
    assert outcome.added == 0
    assert "unverified hashes only" in outcome.rejected[0][1]


def test_withdrawal_keeps_its_reason_and_is_the_last_change(session: Session) -> None:
    ensure_builtin_banks(session)
    moment = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    add(session, UNVERIFIED_BANK, [pdq(PDQ_A)], clock=lambda: moment)
    bank = get_bank(session, UNVERIFIED_BANK)
    later = moment + timedelta(days=2)
    [entry] = withdraw_signals(
        session, bank, [Signal.parse("pdq", PDQ_A)], reason="decided again", clock=lambda: later
    )
    assert entry.withdrawn_reason == "decided again"
    stats = {s.name: s for s in bank_stats(session)}[UNVERIFIED_BANK]
    assert stats.last_change == later
