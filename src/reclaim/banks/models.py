"""Signals (hash values) and the banks that hold them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reclaim.banks.domain import Category, EntrySource, HoldOutcome, HoldReason
from reclaim.domain.signals import SignalType
from reclaim.storage.base import Base
from reclaim.storage.types import enum_column, utcnow


class Signal(Base):
    """A hash value, stored once however many items and banks refer to it."""

    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[SignalType] = mapped_column(enum_column(SignalType, length=24))
    value: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("type", "value", name="uq_signals_type_value"),)


class Bank(Base):
    """A named list of signals with provenance.

    ``verified``: every entry is vouched for (a person saw the picture, here or at the
    list's source); ``category``: what every entry is of, or None when entries carry
    their own (``self-reported``, ``unverified``, mixed imports).
    """

    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[Category | None] = mapped_column(enum_column(Category))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BankEntry(Base):
    """A signal in a bank.  Withdrawn entries stay as tombstones for the hash feed."""

    __tablename__ = "bank_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), index=True)
    quality: Mapped[int | None] = mapped_column(Integer)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[Category] = mapped_column(enum_column(Category), default=Category.UNKNOWN)
    source: Mapped[EntrySource] = mapped_column(enum_column(EntrySource))
    source_ref: Mapped[str | None] = mapped_column(String(255))
    # Why a verified entry is verified: who saw it, or which verified entry it matched.
    verified_via: Mapped[str | None] = mapped_column(String(255))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    # Why it was withdrawn (shown with the tombstone in the feed).
    withdrawn_reason: Mapped[str | None] = mapped_column(String(500))
    # Position in the bank's change feed: set on every add and every withdrawal.
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)

    signal: Mapped[Signal] = relationship()
    bank: Mapped[Bank] = relationship()

    __table_args__ = (UniqueConstraint("bank_id", "signal_id", name="uq_bank_entries_bank_signal"),)


class BenignSignal(Base):
    """A hash an operator knows to be harmless (a popular meme, a stock photo, the test
    media): it never enters an unverified bank, so it never reaches the feed from one."""

    __tablename__ = "benign_signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    signal: Mapped[Signal] = relationship()


class FeedHold(Base):
    """A self-reported entry the flood guard took out of the feed until an analyst
    looks: it matched too widely, or partners said it was not violating.

    While a hold is open (``released_at`` is None) the entry stays withdrawn and new
    reports of the same hash do not bring it back.  ``partners`` is how many partners
    had matched it (or called it not violating) when it was held.
    """

    __tablename__ = "feed_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"), index=True)
    reason: Mapped[HoldReason] = mapped_column(enum_column(HoldReason))
    partners: Mapped[int] = mapped_column(Integer)
    held_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    # What the analyst decided: back into the feed, or benign (onto the allow list).
    outcome: Mapped[HoldOutcome | None] = mapped_column(enum_column(HoldOutcome))

    entry: Mapped[BankEntry] = relationship()


class EntryMatch(Base):
    """Which partners' match calls found a self-reported entry (first and last time):
    what the flood guard counts."""

    __tablename__ = "entry_matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    first_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("entry_id", "partner_id", name="uq_entry_matches_entry_partner"),
    )


class VideoFrames(Base):
    """The frames of a ``vpdq`` signal, in ``reclaim.matching.video.FrameList``'s compact
    form (33 bytes per distinct frame hash, 12 per sampled frame).  The signal's value
    is the SHA-256 of ``frames``, so a frame list is stored once."""

    __tablename__ = "video_frames"

    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), primary_key=True)
    frame_count: Mapped[int] = mapped_column(Integer)
    distinct_count: Mapped[int] = mapped_column(Integer)
    frames: Mapped[bytes] = mapped_column(LargeBinary)
