"""Hash banks: adding signals with provenance, withdrawing them.

Every add and every withdrawal takes the next numbers of the `bank_feed` counter into
the entry's `change_seq`; the partner hash feed and the in-memory match engines read
changes in that order.  The counter's lock is taken first in each write, so bank
writers are serialised: two imports cannot both insert the same entry, and sequence
numbers become visible in the order they were issued.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks import videos
from reclaim.banks.domain import BUILTIN_BANKS, VERIFIED_BANKS, Category, EntrySource
from reclaim.banks.models import Bank, BankEntry, BenignSignal, FeedHold
from reclaim.banks.models import Signal as SignalRow
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.signals import Signal, SignalType
from reclaim.matching.video import FrameList
from reclaim.storage import counters
from reclaim.storage.bulk import chunked, insert_ignoring_duplicates

BANK_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class BankError(ValueError):
    """A bank operation that cannot be done (unknown bank, bad name, ...)."""


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A signal to bank, with what is known about it.

    ``verified`` is a claim that a person saw the picture (``verified_via`` says who, or
    which verified entry it matched); a verified bank takes nothing else.  A ``vpdq``
    signal brings its ``frames`` unless they are stored already (a reviewed video's).
    """

    signal: Signal
    quality: int | None = None
    verified: bool = False
    category: Category = Category.UNKNOWN
    verified_via: str | None = None
    frames: FrameList | None = None


@dataclass(slots=True)
class AddOutcome:
    added: int = 0
    reactivated: int = 0
    unchanged: int = 0
    rejected: list[tuple[Signal, str]] = field(default_factory=list)
    entry_ids: list[int] = field(default_factory=list)

    def merge(self, other: AddOutcome) -> None:
        self.added += other.added
        self.reactivated += other.reactivated
        self.unchanged += other.unchanged
        self.rejected.extend(other.rejected)
        self.entry_ids.extend(other.entry_ids)


# --- banks -------------------------------------------------------------------------


def ensure_builtin_banks(session: Session) -> list[Bank]:
    """Create the built-in banks (``self-reported``, ``unverified`` and the verified bank
    of each category) that are not there yet."""
    banks = []
    for name, builtin in BUILTIN_BANKS.items():
        bank = session.scalar(select(Bank).where(Bank.name == name))
        if bank is None:
            bank = Bank(
                name=name,
                description=builtin.description,
                builtin=True,
                verified=builtin.verified,
                category=builtin.category,
            )
            session.add(bank)
        banks.append(bank)
    session.flush()
    return banks


def verified_bank(session: Session, category: Category) -> Bank:
    """The verified bank of a decided category."""
    return get_bank(session, VERIFIED_BANKS[category])


def get_bank(session: Session, name: str) -> Bank:
    """The bank of this name; built-in banks are created on first use."""
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None and name in BUILTIN_BANKS:
        ensure_builtin_banks(session)
        bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        known = ", ".join(session.scalars(select(Bank.name).order_by(Bank.name))) or "none"
        raise BankError(f"no bank named {name!r} (banks: {known})")
    return bank


def create_bank(
    session: Session,
    name: str,
    description: str,
    *,
    actor: audit.Actor,
    verified: bool = False,
    category: Category | None = None,
    clock: Clock = system_clock,
) -> Bank:
    """A bank for an imported list; ``verified`` when its source vouches that a person
    saw every picture, ``category`` when every entry is of one kind."""
    if not BANK_NAME.fullmatch(name):
        raise BankError(
            "a bank name is 1–64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
        raise BankError(f"a bank named {name!r} already exists")
    bank = Bank(
        name=name,
        description=description,
        builtin=False,
        verified=verified,
        category=category,
        created_at=clock(),
    )
    session.add(bank)
    session.flush()
    audit.record(
        session,
        AuditTag.BANK_CREATED,
        actor=actor,
        target=(TargetKind.BANK, bank.id),
        details={
            "name": name,
            "verified": verified,
            "category": category.value if category else None,
        },
    )
    return bank


# --- adding and withdrawing ---------------------------------------------------------


def add_signals(
    session: Session,
    bank: Bank,
    entries: Iterable[NewEntry],
    *,
    source: EntrySource,
    source_ref: str | None,
    min_pdq_quality: int,
    clock: Clock = system_clock,
) -> AddOutcome:
    """Bank signals; idempotent (adding a banked signal again changes nothing).

    PDQ hashes whose quality is known and below `min_pdq_quality` are not banked and
    come back in `rejected` with the reason.  A withdrawn entry added again is
    reactivated (and appears in the feed again).
    """
    counters.next_values(session, counters.BANK_FEED, 0)  # take the bank-writer lock
    outcome = AddOutcome()
    wanted = _screened(bank, entries, min_pdq_quality, outcome)
    now = clock()
    signal_ids = _signal_ids(session, list(wanted), now)
    _keep_video_frames(session, wanted, signal_ids, outcome)
    existing = _entry_states(session, bank.id, list(signal_ids.values()))
    kept_out = _kept_out(session, bank, signal_ids, existing)
    for signal in [s for s in wanted if signal_ids[s] in kept_out]:
        outcome.rejected.append((signal, kept_out[signal_ids[signal]]))
        del wanted[signal]
    to_insert: list[dict[str, object]] = []
    withdrawn: dict[int, NewEntry] = {}  # entry id -> what to bank again
    for signal, entry in wanted.items():
        signal_id = signal_ids[signal]
        state = existing.get(signal_id)
        if state is None:
            to_insert.append(
                {
                    "bank_id": bank.id,
                    "signal_id": signal_id,
                    "quality": entry.quality,
                    "verified": entry.verified,
                    "category": _category(bank, entry),
                    "source": source,
                    "source_ref": source_ref,
                    "verified_via": entry.verified_via,
                    "added_at": now,
                }
            )
        elif state[1]:
            outcome.unchanged += 1
            outcome.entry_ids.append(state[0])
        else:
            withdrawn[state[0]] = entry
    to_reactivate = list(
        session.scalars(select(BankEntry).where(BankEntry.id.in_(list(withdrawn))))
    )
    changes = len(to_insert) + len(to_reactivate)
    if changes == 0:
        return outcome
    last = counters.next_values(session, counters.BANK_FEED, changes)
    sequence = iter(range(last - changes + 1, last + 1))
    for row in to_insert:
        row["change_seq"] = next(sequence)
    for part in chunked(to_insert):
        session.execute(BankEntry.__table__.insert(), list(part))  # type: ignore[attr-defined]
    for current in to_reactivate:
        entry = withdrawn[current.id]
        current.withdrawn_at = None
        current.withdrawn_reason = None
        current.added_at = now
        current.source, current.source_ref = source, source_ref
        current.verified, current.verified_via = entry.verified, entry.verified_via
        current.category = _category(bank, entry)
        current.change_seq = next(sequence)
    session.flush()
    outcome.added = len(to_insert)
    outcome.reactivated = len(to_reactivate)
    inserted_ids = [signal_ids[s] for s in wanted if signal_ids[s] not in existing]
    outcome.entry_ids.extend(e[0] for e in _entry_states(session, bank.id, inserted_ids).values())
    outcome.entry_ids.extend(e.id for e in to_reactivate)
    return outcome


def _keep_video_frames(
    session: Session, wanted: dict[Signal, NewEntry], ids: dict[Signal, int], outcome: AddOutcome
) -> None:
    """Store the frames vPDQ entries bring; refuse those without frames stored or given."""
    vpdq = [s for s in wanted if s.type is SignalType.VPDQ]
    if not vpdq:
        return
    videos.store_frames(session, {ids[s]: f for s in vpdq if (f := wanted[s].frames) is not None})
    stored = set(videos.stored_signal_ids(session, [ids[s] for s in vpdq]))
    for signal in vpdq:
        if ids[signal] not in stored:
            del wanted[signal]
            outcome.rejected.append((signal, "a vPDQ signal needs its frame list"))


def _screened(
    bank: Bank, entries: Iterable[NewEntry], min_pdq_quality: int, outcome: AddOutcome
) -> dict[Signal, NewEntry]:
    """One entry per signal, without those too weak to bank or that the bank may not
    hold (noted in ``outcome``)."""
    wanted: dict[Signal, NewEntry] = {}
    for entry in entries:
        reason = quality_problem(entry, min_pdq_quality) or trust_problem(bank, entry)
        if reason:
            outcome.rejected.append((entry.signal, reason))
        elif entry.signal not in wanted:
            wanted[entry.signal] = entry
    return wanted


def _kept_out(
    session: Session,
    bank: Bank,
    signal_ids: dict[Signal, int],
    existing: dict[int, tuple[int, bool]],
) -> dict[int, str]:
    """Signal id -> why it may not be banked here: on the allow list of benign hashes
    (an unverified bank), or held by the flood guard until an analyst looks."""
    found: dict[int, str] = {}
    ids = list(signal_ids.values())
    if not bank.verified:
        for part in chunked(ids):
            for signal_id in session.scalars(
                select(BenignSignal.signal_id).where(BenignSignal.signal_id.in_(part))
            ):
                found[signal_id] = "on the allow list of known benign hashes"
    entry_ids = {state[0]: signal_id for signal_id, state in existing.items()}
    for part in chunked(list(entry_ids)):
        for entry_id in session.scalars(
            select(FeedHold.entry_id).where(
                FeedHold.entry_id.in_(part), FeedHold.released_at.is_(None)
            )
        ):
            found.setdefault(entry_ids[entry_id], "held out of the feed until an analyst looks")
    return found


def trust_problem(bank: Bank, entry: NewEntry) -> str | None:
    """A verified bank holds only what a person saw, of the bank's own category; an
    unverified bank never claims otherwise."""
    if bank.verified and not entry.verified:
        return f"the {bank.name} bank holds only verified hashes (someone saw the picture)"
    if not bank.verified and entry.verified:
        return f"the {bank.name} bank holds unverified hashes only"
    if bank.category is not None and entry.category not in (bank.category, Category.UNKNOWN):
        return f"the {bank.name} bank holds {bank.category.value} only, not {entry.category.value}"
    return None


def _category(bank: Bank, entry: NewEntry) -> Category:
    return bank.category or entry.category


def quality_problem(entry: NewEntry, min_pdq_quality: int) -> str | None:
    quality = entry.quality
    if entry.signal.type is SignalType.VPDQ and quality is not None and quality < min_pdq_quality:
        return (
            f"no frame of the video has PDQ quality {min_pdq_quality} or more: "
            "it has too little detail to match reliably"
        )
    if entry.signal.type is SignalType.PDQ and quality is not None and quality < min_pdq_quality:
        return (
            f"PDQ quality {quality} is below the banking threshold "
            f"{min_pdq_quality}: the image has too little detail to match reliably"
        )
    return None


def withdraw_signals(
    session: Session,
    bank: Bank,
    signals: Iterable[Signal],
    *,
    reason: str | None = None,
    clock: Clock = system_clock,
) -> list[BankEntry]:
    """Withdraw active entries; they stay as tombstones for the hash feed."""
    signal_ids = _existing_signal_ids(session, list(set(signals)))
    states = _entry_states(session, bank.id, list(signal_ids.values()))
    # withdraw_entries takes the lock and skips any withdrawn meanwhile.
    return withdraw_entries(
        session, [entry_id for entry_id, _active in states.values()], reason=reason, clock=clock
    )


def withdraw_entries(
    session: Session,
    entry_ids: Iterable[int],
    *,
    reason: str | None = None,
    clock: Clock = system_clock,
) -> list[BankEntry]:
    counters.next_values(session, counters.BANK_FEED, 0)
    ids = list(entry_ids)
    entries = list(
        session.scalars(
            select(BankEntry).where(BankEntry.id.in_(ids), BankEntry.withdrawn_at.is_(None))
        )
    )
    return _withdraw(session, entries, reason, clock)


def _withdraw(
    session: Session, entries: list[BankEntry], reason: str | None, clock: Clock
) -> list[BankEntry]:
    if not entries:
        return []
    last = counters.next_values(session, counters.BANK_FEED, len(entries))
    now = clock()
    for offset, entry in enumerate(sorted(entries, key=lambda e: e.id)):
        entry.withdrawn_at = now
        entry.withdrawn_reason = (reason or "").strip()[:500] or None
        entry.change_seq = last - len(entries) + 1 + offset
    session.flush()
    return entries


def signal_ids(
    session: Session, signals: Iterable[Signal], *, clock: Clock = system_clock
) -> dict[Signal, int]:
    """Ids of these signals' rows, creating those that do not exist yet (items refer to
    signals whether or not any bank holds them)."""
    return _signal_ids(session, list(set(signals)), clock())


def _signal_ids(session: Session, signals: list[Signal], now: datetime) -> dict[Signal, int]:
    """Ids of these signals, creating the rows that do not exist yet."""
    found = _existing_signal_ids(session, signals)
    missing = [s for s in signals if s not in found]
    if missing:
        insert_ignoring_duplicates(
            session,
            SignalRow.__table__,  # type: ignore[arg-type]
            [{"type": s.type.value, "value": s.value, "created_at": now} for s in missing],
        )
        found.update(_existing_signal_ids(session, missing))
    return found


def _existing_signal_ids(session: Session, signals: list[Signal]) -> dict[Signal, int]:
    found: dict[Signal, int] = {}
    by_type: dict[SignalType, list[str]] = {}
    for signal in signals:
        by_type.setdefault(signal.type, []).append(signal.value)
    # One signal type per query keeps the (type, value) index usable on every backend.
    for kind, values in by_type.items():
        for part in chunked(values):
            rows = session.execute(
                select(SignalRow.id, SignalRow.value).where(
                    SignalRow.type == kind, SignalRow.value.in_(part)
                )
            )
            for signal_id, value in rows:
                found[Signal(kind, value)] = signal_id
    return found


def _entry_states(
    session: Session, bank_id: int, signal_ids: list[int]
) -> dict[int, tuple[int, bool]]:
    """signal id -> (entry id, active) for this bank's entries of these signals."""
    found: dict[int, tuple[int, bool]] = {}
    for part in chunked(signal_ids):
        rows = session.execute(
            select(BankEntry.signal_id, BankEntry.id, BankEntry.withdrawn_at.is_(None)).where(
                BankEntry.bank_id == bank_id, BankEntry.signal_id.in_(part)
            )
        )
        for signal_id, entry_id, active in rows:
            found[signal_id] = (entry_id, bool(active))
    return found
