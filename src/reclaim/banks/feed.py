"""The hash feed partners pull: every bank change after a cursor, in change order.

The cursor is a bank-feed sequence number (``BankEntry.change_seq``).  Every add,
re-add and withdrawal gives the entry the next number, and writers hold the counter's
lock until they commit, so numbers become visible in order: a page that reads up to
the counter's committed value can never be missing a smaller number that commits
later.  That is what makes paging stable while signals are being added:

1. read the feed's head (the counter's committed value);
2. return the entries with ``cursor < change_seq <= head`` in order, up to ``limit``;
3. the next cursor is the last entry's number, or the head when the page is not full
   (so a filtered reader skips ranges that hold nothing for it).

An entry appears at its latest change only: withdrawing an entry moves it to a new,
larger number as a tombstone (``deleted``); re-adding it moves it again.  Replaying
pages in order therefore converges on the banks' current state.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reclaim.banks import videos
from reclaim.banks.contents import ExportRow, active_batch
from reclaim.banks.domain import Category
from reclaim.banks.formats import BankFormat, write_entries
from reclaim.banks.models import Bank, BankEntry
from reclaim.banks.models import Signal as SignalRow
from reclaim.domain.signals import Signal, SignalType
from reclaim.matching.video import FrameList
from reclaim.storage import counters
from reclaim.storage.models import Counter

_CURSOR = re.compile(r"[0-9]{1,18}")
SNAPSHOT_BATCH = 5000


class CursorError(ValueError):
    """A cursor this feed did not give out."""


class UnknownBankError(LookupError):
    """No bank has the name asked for."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    entry_id: int
    change: int
    signal: Signal
    bank: str
    verified: bool
    quality: int | None
    deleted: bool
    added_at: datetime
    withdrawn_at: datetime | None
    category: Category = Category.UNKNOWN
    withdrawn_reason: str | None = None
    frames: FrameList | None = None  # an active vpdq entry's frames


@dataclass(frozen=True, slots=True)
class FeedPage:
    entries: list[FeedEntry]
    next_cursor: int
    has_more: bool


def parse_cursor(text: str | None) -> int:
    """``None`` or empty: the beginning of the feed."""
    if text is None or text == "":
        return 0
    if not _CURSOR.fullmatch(text):
        raise CursorError("a cursor is the next_cursor of an earlier page; omit it to start")
    return int(text)


def feed_head(session: Session) -> int:
    value = session.scalar(select(Counter.value).where(Counter.name == counters.BANK_FEED))
    return int(value or 0)


def bank_id(session: Session, name: str) -> int:
    found = session.scalar(select(Bank.id).where(Bank.name == name))
    if found is None:
        raise UnknownBankError(f"no bank named {name!r}")
    return found


def bank_names(session: Session) -> list[str]:
    return list(session.scalars(select(Bank.name).order_by(Bank.name)))


def read_feed(
    session: Session,
    *,
    cursor: int,
    limit: int,
    bank: str | None = None,
    signal_types: Collection[SignalType] | None = None,
) -> FeedPage:
    """One page of changes after ``cursor`` (see the module's docstring)."""
    head = feed_head(session)
    if cursor > head:
        raise CursorError(
            f"cursor {cursor} is ahead of this feed (head {head}): it came from another "
            "server or database; start again without a cursor"
        )
    query = (
        select(
            BankEntry.id,
            BankEntry.change_seq,
            SignalRow.type,
            SignalRow.value,
            Bank.name,
            BankEntry.verified,
            BankEntry.quality,
            BankEntry.added_at,
            BankEntry.withdrawn_at,
            BankEntry.category,
            BankEntry.withdrawn_reason,
            SignalRow.id.label("signal_id"),
        )
        .join(SignalRow, SignalRow.id == BankEntry.signal_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(BankEntry.change_seq > cursor, BankEntry.change_seq <= head)
        .order_by(BankEntry.change_seq)
        .limit(limit + 1)
    )
    if bank is not None:
        query = query.where(BankEntry.bank_id == bank_id(session, bank))
    if signal_types:
        query = query.where(SignalRow.type.in_([t.value for t in signal_types]))
    rows = session.execute(query).all()
    has_more = len(rows) > limit
    frames = videos.frames_of(
        session,
        [
            row.signal_id
            for row in rows[:limit]
            if row.type == SignalType.VPDQ and row.withdrawn_at is None
        ],
    )
    entries = [
        FeedEntry(
            entry_id=row.id,
            change=row.change_seq,
            signal=Signal(SignalType(row.type), row.value),
            bank=row.name,
            verified=row.verified,
            quality=row.quality,
            deleted=row.withdrawn_at is not None,
            added_at=row.added_at,
            withdrawn_at=row.withdrawn_at,
            category=row.category,
            withdrawn_reason=row.withdrawn_reason,
            frames=frames.get(row.signal_id),
        )
        for row in rows[:limit]
    ]
    next_cursor = entries[-1].change if has_more else head
    return FeedPage(entries, next_cursor, has_more)


# --- snapshots ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A bank's active entries as a file, and the feed position to follow it from."""

    bank: str
    cursor: int
    chunks: Iterator[str]


def snapshot(sessions: sessionmaker[Session], bank: str, file_format: BankFormat) -> Snapshot:
    """Stream a bank's active entries in one of the three bank formats.

    Each batch is read in its own short transaction: a large export must not hold a
    transaction (on SQLite, the write lock) for as long as the client takes to read
    it.  So the file is not one consistent picture, but every change made after
    ``cursor`` (read before the first batch) is in the feed, and a partner that loads
    the file and then follows the feed from ``cursor`` ends up with the bank's state.
    """
    with sessions() as session:
        wanted = bank_id(session, bank)
        head = feed_head(session)
    return Snapshot(bank, head, _chunks(sessions, wanted, file_format))


def _chunks(sessions: sessionmaker[Session], wanted: int, file_format: BankFormat) -> Iterator[str]:
    rows = _active_rows(sessions, wanted)
    batch: list[str] = []
    for piece in write_entries(rows, file_format):
        batch.append(piece)
        if len(batch) >= SNAPSHOT_BATCH:
            yield "".join(batch)
            batch.clear()
    yield "".join(batch)


def _active_rows(sessions: sessionmaker[Session], wanted: int) -> Iterator[ExportRow]:
    """A bank's active entries, a short-lived session per batch (a slow client holds none)."""
    last_id = 0
    while True:
        with sessions() as session:
            batch = active_batch(session, wanted, after=last_id, limit=SNAPSHOT_BATCH)
        if not batch:
            return
        for last_id, row in batch:  # noqa: B007 - the last one's id is where to go on
            yield row
