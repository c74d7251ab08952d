"""Cases, the reports and items in them, notes, decisions and quarantined media."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reclaim.accounts.models import User
from reclaim.banks.models import Signal
from reclaim.cases.domain import (
    AgeGroup,
    CaseStatus,
    Classification,
    DecisionStatus,
    ItemKind,
    MediaKind,
    ReporterRole,
    Situation,
)
from reclaim.storage.base import Base
from reclaim.storage.types import enum_column, utcnow


class Case(Base):
    """One victim's matter: groups the reports about it and their items."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.NEW)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    reports: Mapped[list[Report]] = relationship(back_populates="case", order_by="Report.id")
    items: Mapped[list[Item]] = relationship(back_populates="case", order_by="Item.id")

    __table_args__ = (Index("ix_cases_status_created", "status", "created_at"),)


class Report(Base):
    """What one reporter sent, once: their answers and where to reach them."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # A client-generated key: a retried submission finds the report it already made.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    reporter_role: Mapped[ReporterRole] = mapped_column(enum_column(ReporterRole))
    age_group: Mapped[AgeGroup] = mapped_column(enum_column(AgeGroup))
    situation: Mapped[Situation] = mapped_column(enum_column(Situation))
    description: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(1024))  # encrypted (FieldCipher)
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="reports")


class Item(Base):
    """One URL, or one file hashed on the reporter's device, in a case."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    kind: Mapped[ItemKind] = mapped_column(enum_column(ItemKind))
    url: Mapped[str | None] = mapped_column(Text)
    media_kind: Mapped[MediaKind | None] = mapped_column(enum_column(MediaKind))
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The decision in force (see Decision for the history), denormalised for the queue.
    classification: Mapped[Classification | None] = mapped_column(enum_column(Classification))
    # The reporter withdrew this item (its hashes became tombstones in the feed).
    withdrawn_at: Mapped[datetime | None]
    # The account that posted it, when an analyst knows it (quoted in notices).
    posted_by: Mapped[str | None] = mapped_column(String(255))

    case: Mapped[Case] = relationship(back_populates="items")
    signals: Mapped[list[ItemSignal]] = relationship(
        back_populates="item", cascade="all, delete-orphan"
    )


class ItemSignal(Base):
    """A signal computed for an item (a file's MD5, SHA-256 and PDQ, say)."""

    __tablename__ = "item_signals"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), primary_key=True, index=True)
    quality: Mapped[int | None] = mapped_column(Integer)

    item: Mapped[Item] = relationship(back_populates="signals")
    signal: Mapped[Signal] = relationship()


class CaseNote(Base):
    """An analyst's internal note on a case.  Never shown to the reporter."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)  # encrypted (FieldCipher)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()


class Decision(Base):
    """An analyst's classification of one item; the history of them, newest last."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    analyst_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    classification: Mapped[Classification] = mapped_column(enum_column(Classification))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DecisionStatus] = mapped_column(enum_column(DecisionStatus))
    second_analyst_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    agreed_at: Mapped[datetime | None]

    item: Mapped[Item] = relationship()
    analyst: Mapped[User] = relationship(foreign_keys=[analyst_id])
    second_analyst: Mapped[User | None] = relationship(foreign_keys=[second_analyst_id])


class QuarantinedMedia(Base):
    """Media fetched for review, kept encrypted in the quarantine store until purged."""

    __tablename__ = "quarantined_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    object_id: Mapped[str] = mapped_column(String(64), unique=True)  # in QuarantineStore
    final_url: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    fetched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    purged_at: Mapped[datetime | None]

    item: Mapped[Item] = relationship()
