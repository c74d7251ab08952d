"""Keeping the hash feed trustworthy: the allow list of benign hashes and the flood guard.

Platforms block uploads that match the feed, so a false positive there blocks a
popular meme for everyone, and platforms that see that stop using the feed.  The
self-reported bank is the exposed part: anyone can report, and nobody at the hotline
has seen those pictures.  Two guards stand between it and the feed:

* **The allow list**: hashes an operator knows to be harmless (memes, stock photos, the
  public test media).  They are never banked in an unverified bank
  (:func:`reclaim.banks.banking.add_signals` refuses them), and adding one to the list
  withdraws it from every unverified bank at once.
* **The flood guard**: a self-reported hash that matches widely (many partners' match
  calls within the window) or that two or more partners called "not violating" is
  held: withdrawn from the feed (a tombstone partners apply) and kept out until an
  analyst decides, either back into the feed or onto the allow list.

Verified banks are not guarded: a person at the hotline saw those pictures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks import banking
from reclaim.banks.domain import SELF_REPORTED_BANK, HoldOutcome, HoldReason
from reclaim.banks.models import Bank, BankEntry, BenignSignal, EntryMatch, FeedHold
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.signals import Signal
from reclaim.storage.bulk import chunked

HELD_REASON = "held by the flood guard: it matched widely; an analyst will look"
BENIGN_REASON = "on the allow list of known benign hashes"
MAX_NOTE = 500


class HoldError(LookupError):
    """No open hold with that id."""


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    match_partners: int
    feedback_partners: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> GuardPolicy:
        return cls(
            match_partners=settings.flood_guard_match_partners,
            feedback_partners=settings.flood_guard_feedback_partners,
            window=timedelta(days=settings.flood_guard_window_days),
        )


@dataclass(frozen=True, slots=True)
class AllowOutcome:
    added: int
    already: int
    withdrawn: int


@dataclass(frozen=True, slots=True)
class GuardFigures:
    """For the dashboard: what the guards are holding back."""

    held_pending: int
    held_for_matches: int
    held_for_feedback: int
    restored: int
    judged_benign: int
    allow_listed: int


# --- the allow list ----------------------------------------------------------------------


def allow(
    session: Session,
    signals: Iterable[Signal],
    *,
    note: str,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> AllowOutcome:
    """Put hashes on the allow list and withdraw them from every unverified bank."""
    wanted = list(dict.fromkeys(signals))
    ids = banking.signal_ids(session, wanted, clock=clock)
    listed = set(
        session.scalars(
            select(BenignSignal.signal_id).where(BenignSignal.signal_id.in_(ids.values()))
        )
    )
    text = " ".join(note.split())[:MAX_NOTE]
    now = clock()
    for signal_id in ids.values():
        if signal_id not in listed:
            session.add(BenignSignal(signal_id=signal_id, note=text, added_at=now))
    session.flush()
    entries = session.scalars(
        select(BankEntry.id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(
            BankEntry.signal_id.in_(list(ids.values())),
            BankEntry.withdrawn_at.is_(None),
            Bank.verified.is_(False),
        )
    ).all()
    withdrawn = banking.withdraw_entries(session, entries, reason=BENIGN_REASON, clock=clock)
    outcome = AllowOutcome(
        added=len(ids) - len(listed), already=len(listed), withdrawn=len(withdrawn)
    )
    audit.record(
        session,
        AuditTag.ALLOW_LIST_CHANGED,
        actor=actor,
        details={"added": outcome.added, "withdrawn": outcome.withdrawn, "note": text},
        clock=clock,
    )
    return outcome


def disallow(
    session: Session, signals: Iterable[Signal], *, actor: audit.Actor, clock: Clock = system_clock
) -> int:
    """Take hashes off the allow list (they may be reported again); how many were on it."""
    ids = banking.signal_ids(session, list(dict.fromkeys(signals)), clock=clock)
    listed = list(
        session.scalars(select(BenignSignal).where(BenignSignal.signal_id.in_(list(ids.values()))))
    )
    for row in listed:
        session.delete(row)
    session.flush()
    removed = len(listed)
    audit.record(
        session, AuditTag.ALLOW_LIST_CHANGED, actor=actor, details={"removed": removed}, clock=clock
    )
    return removed


def allow_listed(session: Session) -> list[tuple[Signal, str, datetime]]:
    rows = session.scalars(select(BenignSignal).order_by(BenignSignal.id)).all()
    return [(Signal(row.signal.type, row.signal.value), row.note, row.added_at) for row in rows]


# --- the flood guard ----------------------------------------------------------------------


def record_matches(
    session: Session,
    partner_id: int,
    entry_ids: Iterable[int],
    *,
    policy: GuardPolicy,
    clock: Clock = system_clock,
) -> list[FeedHold]:
    """Note that a partner's match call found these entries; hold the self-reported
    ones that enough partners found within the window."""
    now = clock()
    entries = _active_self_reported(session, set(entry_ids))
    if not entries:
        return []
    known = {
        row.entry_id: row
        for row in session.scalars(
            select(EntryMatch).where(
                EntryMatch.partner_id == partner_id, EntryMatch.entry_id.in_(entries)
            )
        )
    }
    for entry_id in entries:
        if entry_id in known:
            known[entry_id].last_at = now
        else:
            session.add(
                EntryMatch(entry_id=entry_id, partner_id=partner_id, first_at=now, last_at=now)
            )
    session.flush()
    counts = dict(
        session.execute(
            select(EntryMatch.entry_id, func.count(EntryMatch.partner_id))
            .where(EntryMatch.entry_id.in_(entries), EntryMatch.last_at > now - policy.window)
            .group_by(EntryMatch.entry_id)
        ).all()
    )
    return consider(
        session,
        counts,
        reason=HoldReason.MANY_MATCHES,
        threshold=policy.match_partners,
        clock=clock,
    )


def self_reported_entries(session: Session, signal_ids: Iterable[int]) -> dict[int, int]:
    """Signal id -> its active self-reported entry, for these signals."""
    found: dict[int, int] = {}
    for part in chunked(list(set(signal_ids))):
        rows = session.execute(
            select(BankEntry.signal_id, BankEntry.id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(
                Bank.name == SELF_REPORTED_BANK,
                BankEntry.signal_id.in_(part),
                BankEntry.withdrawn_at.is_(None),
            )
        )
        found.update((signal_id, entry_id) for signal_id, entry_id in rows)
    return found


def consider(
    session: Session,
    partners_by_entry: Mapping[int, int],
    *,
    reason: HoldReason,
    threshold: int,
    clock: Clock = system_clock,
) -> list[FeedHold]:
    """Hold every active self-reported entry that ``threshold`` or more partners
    matched (or called not violating)."""
    over = {e: n for e, n in partners_by_entry.items() if n >= threshold}
    active = _active_self_reported(session, set(over))
    held = []
    for entry_id in sorted(active):
        held.append(_hold(session, entry_id, reason, over[entry_id], clock))
    return held


def _hold(
    session: Session, entry_id: int, reason: HoldReason, partners: int, clock: Clock
) -> FeedHold:
    hold = FeedHold(entry_id=entry_id, reason=reason, partners=partners, held_at=clock())
    session.add(hold)
    [entry] = banking.withdraw_entries(session, [entry_id], reason=HELD_REASON, clock=clock)
    audit.record(
        session,
        AuditTag.SIGNAL_HELD,
        actor=audit.SYSTEM,
        target=(TargetKind.BANK, entry.bank_id),
        details={
            "entry": entry_id,
            "case": entry.source_ref,
            "reason": reason.value,
            "partners": partners,
        },
        clock=clock,
    )
    return hold


def open_holds(session: Session) -> list[FeedHold]:
    return list(
        session.scalars(
            select(FeedHold).where(FeedHold.released_at.is_(None)).order_by(FeedHold.id)
        )
    )


def release(
    session: Session,
    hold_id: int,
    outcome: HoldOutcome,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> FeedHold:
    """An analyst's decision on a held hash: back into the feed, or benign."""
    hold = session.get(FeedHold, hold_id)
    if hold is None or hold.released_at is not None:
        raise HoldError(f"no open hold {hold_id}")
    hold.released_at, hold.outcome = clock(), outcome
    session.flush()
    entry = hold.entry
    signal = Signal(entry.signal.type, entry.signal.value)
    if outcome is HoldOutcome.RESTORED:
        banking.add_signals(
            session,
            entry.bank,
            [banking.NewEntry(signal, entry.quality, category=entry.category)],
            source=entry.source,
            source_ref=entry.source_ref,
            min_pdq_quality=0,
            clock=clock,
        )
    else:
        allow(
            session,
            [signal],
            note=f"judged benign after a flood-guard hold ({hold.reason})",
            actor=actor,
            clock=clock,
        )
    audit.record(
        session,
        AuditTag.SIGNAL_HOLD_RELEASED,
        actor=actor,
        target=(TargetKind.BANK, entry.bank_id),
        details={"hold": hold.id, "entry": entry.id, "outcome": outcome.value},
        clock=clock,
    )
    return hold


def figures(session: Session) -> GuardFigures:
    pending = dict(
        session.execute(
            select(FeedHold.reason, func.count())
            .where(FeedHold.released_at.is_(None))
            .group_by(FeedHold.reason)
        ).all()
    )
    decided = dict(
        session.execute(
            select(FeedHold.outcome, func.count())
            .where(FeedHold.released_at.is_not(None))
            .group_by(FeedHold.outcome)
        ).all()
    )
    return GuardFigures(
        held_pending=sum(pending.values()),
        held_for_matches=pending.get(HoldReason.MANY_MATCHES, 0),
        held_for_feedback=pending.get(HoldReason.NOT_VIOLATING, 0),
        restored=decided.get(HoldOutcome.RESTORED, 0),
        judged_benign=decided.get(HoldOutcome.BENIGN, 0),
        allow_listed=session.scalar(select(func.count()).select_from(BenignSignal)) or 0,
    )


def _active_self_reported(session: Session, entry_ids: set[int]) -> set[int]:
    found: set[int] = set()
    for part in chunked(list(entry_ids)):
        found.update(
            session.scalars(
                select(BankEntry.id)
                .join(Bank, Bank.id == BankEntry.bank_id)
                .where(
                    BankEntry.id.in_(part),
                    Bank.name == SELF_REPORTED_BANK,
                    BankEntry.withdrawn_at.is_(None),
                )
            )
        )
    return found
