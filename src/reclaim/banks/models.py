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

from reclaim.banks.domain import Category, EntrySource
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


class VideoFrames(Base):
    """The frames of a ``vpdq`` signal, in ``reclaim.matching.video.FrameList``'s compact
    form (33 bytes per distinct frame hash, 12 per sampled frame).  The signal's value
    is the SHA-256 of ``frames``, so a frame list is stored once."""

    __tablename__ = "video_frames"

    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), primary_key=True)
    frame_count: Mapped[int] = mapped_column(Integer)
    distinct_count: Mapped[int] = mapped_column(Integer)
    frames: Mapped[bytes] = mapped_column(LargeBinary)
