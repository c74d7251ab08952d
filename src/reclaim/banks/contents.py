"""What the banks hold: statistics per bank, and their active entries in a stable order
(for exports, snapshots and the partner feed)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim.banks import videos
from reclaim.banks.domain import Category
from reclaim.banks.models import Bank, BankEntry
from reclaim.banks.models import Signal as SignalRow
from reclaim.domain.signals import Signal, SignalType
from reclaim.matching.video import FrameList


@dataclass(frozen=True, slots=True)
class BankStats:
    name: str
    description: str
    builtin: bool
    active: dict[str, int]
    verified: int
    withdrawn: int
    last_change: datetime | None
    holds_verified: bool = False  # the bank takes only verified hashes
    category: Category | None = None  # what every entry is of (None: each says)

    @property
    def total_active(self) -> int:
        return sum(self.active.values())


def bank_stats(session: Session) -> list[BankStats]:
    banks = list(session.scalars(select(Bank).order_by(Bank.name)))
    rows = session.execute(
        select(
            BankEntry.bank_id,
            SignalRow.type,
            BankEntry.withdrawn_at.is_(None),
            BankEntry.verified,
            func.count(),
            func.max(func.coalesce(BankEntry.withdrawn_at, BankEntry.added_at)),
        )
        .join(SignalRow, SignalRow.id == BankEntry.signal_id)
        .group_by(
            BankEntry.bank_id, SignalRow.type, BankEntry.withdrawn_at.is_(None), BankEntry.verified
        )
    ).all()
    by_bank: dict[int, list[Any]] = {}
    for row in rows:
        by_bank.setdefault(row[0], []).append(row)
    stats = []
    for bank in banks:
        active: dict[str, int] = {}
        verified = withdrawn = 0
        last: datetime | None = None
        for _bank_id, kind, is_active, is_verified, count, latest in by_bank.get(bank.id, []):
            if is_active:
                key = SignalType(kind).value
                active[key] = active.get(key, 0) + count
                verified += count if is_verified else 0
            else:
                withdrawn += count
            if latest is not None and (last is None or latest > last):
                last = latest
        stats.append(
            BankStats(
                bank.name,
                bank.description,
                bank.builtin,
                active,
                verified,
                withdrawn,
                last,
                holds_verified=bank.verified,
                category=bank.category,
            )
        )
    return stats


@dataclass(frozen=True, slots=True)
class ExportRow:
    signal: Signal
    quality: int | None
    verified: bool
    added_at: datetime
    category: Category = Category.UNKNOWN
    frames: FrameList | None = None  # a vpdq signal's frames


def active_entries(session: Session, bank: Bank, batch_size: int = 5000) -> Iterator[ExportRow]:
    """Stream a bank's active entries in a stable order (by entry id)."""
    last_id = 0
    while batch := active_batch(session, bank.id, after=last_id, limit=batch_size):
        for last_id, row in batch:  # noqa: B007 - the last one's id is where to go on
            yield row


def active_batch(
    session: Session, bank_id: int, *, after: int, limit: int
) -> list[tuple[int, ExportRow]]:
    """Up to ``limit`` active entries with ids above ``after``, by id, with their ids."""
    rows = session.execute(
        select(
            BankEntry.id,
            SignalRow.type,
            SignalRow.value,
            BankEntry.quality,
            BankEntry.verified,
            BankEntry.added_at,
            BankEntry.category,
            SignalRow.id,
        )
        .join(SignalRow, SignalRow.id == BankEntry.signal_id)
        .where(
            BankEntry.bank_id == bank_id,
            BankEntry.withdrawn_at.is_(None),
            BankEntry.id > after,
        )
        .order_by(BankEntry.id)
        .limit(limit)
    ).all()
    frames = videos.frames_of(session, [row[7] for row in rows if row[1] == SignalType.VPDQ])
    return [
        (
            entry_id,
            ExportRow(
                Signal(SignalType(kind), value),
                quality,
                verified,
                added_at,
                category,
                frames.get(signal_id),
            ),
        )
        for entry_id, kind, value, quality, verified, added_at, category, signal_id in rows
    ]


@dataclass(frozen=True, slots=True)
class Change:
    """One entry as its latest change left it (an addition or a withdrawal)."""

    change_seq: int
    signal: Signal
    category: Category
    verified: bool
    verified_via: str | None
    source: str
    source_ref: str | None
    added_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None

    @property
    def at(self) -> datetime:
        return self.withdrawn_at or self.added_at


def recent_changes(session: Session, bank: Bank, *, limit: int = 50) -> list[Change]:
    """The bank's latest changes, newest first (each entry once, at its latest change)."""
    rows = session.execute(
        select(BankEntry, SignalRow.type, SignalRow.value)
        .join(SignalRow, SignalRow.id == BankEntry.signal_id)
        .where(BankEntry.bank_id == bank.id)
        .order_by(BankEntry.change_seq.desc())
        .limit(limit)
    ).all()
    return [
        Change(
            change_seq=entry.change_seq,
            signal=Signal(SignalType(kind), value),
            category=entry.category,
            verified=entry.verified,
            verified_via=entry.verified_via,
            source=entry.source.value,
            source_ref=entry.source_ref,
            added_at=entry.added_at,
            withdrawn_at=entry.withdrawn_at,
            withdrawn_reason=entry.withdrawn_reason,
        )
        for entry, kind, value in rows
    ]
