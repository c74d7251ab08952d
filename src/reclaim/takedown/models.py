"""Notices, their items, the delivery outbox and verification checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reclaim.cases.domain import Classification
from reclaim.cases.models import Case, Item
from reclaim.platforms.models import Platform
from reclaim.storage.base import Base
from reclaim.storage.types import enum_column, utcnow
from reclaim.takedown.domain import (
    AttemptOutcome,
    Channel,
    DeliveryPurpose,
    DeliveryStatus,
    ItemOutcome,
    NoticeStatus,
    VerificationOutcome,
)


class Notice(Base):
    """A removal request to one platform for some decided items of one case."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[NoticeStatus] = mapped_column(enum_column(NoticeStatus), index=True)
    language: Mapped[str] = mapped_column(String(8))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    next_reminder_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)

    platform: Mapped[Platform] = relationship()
    case: Mapped[Case] = relationship()
    items: Mapped[list[NoticeItem]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="NoticeItem.id"
    )


class NoticeItem(Base):
    """One item in a notice, with where its removal stands."""

    __tablename__ = "notice_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    classification: Mapped[Classification] = mapped_column(enum_column(Classification))
    outcome: Mapped[ItemOutcome] = mapped_column(enum_column(ItemOutcome))
    # What the platform said (through the partner API), kept apart from what we saw.
    platform_outcome: Mapped[ItemOutcome | None] = mapped_column(enum_column(ItemOutcome))
    platform_reason: Mapped[str | None] = mapped_column(Text)
    removed_at: Mapped[datetime | None]  # the first verified removal
    baseline_sha256: Mapped[str | None] = mapped_column(String(64))  # content when noticed
    checks_done: Mapped[int] = mapped_column(Integer, default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)

    notice: Mapped[Notice] = relationship(back_populates="items")
    item: Mapped[Item] = relationship()

    __table_args__ = (UniqueConstraint("notice_id", "item_id", name="uq_notice_items_notice_item"),)


class Delivery(Base):
    """The outbox: one message to send (a notice or a reminder) on one channel.

    Committed in the same transaction as the notice change that calls for it.  The
    idempotency key becomes the email's Message-ID and the webhook's Idempotency-Key,
    so a retry after a crash is recognisable as the same message.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    purpose: Mapped[DeliveryPurpose] = mapped_column(enum_column(DeliveryPurpose, length=16))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, length=16))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, length=16), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sending_started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    remote_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)

    notice: Mapped[Notice] = relationship()


class DeliveryAttempt(Base):
    """Every attempt to send a delivery, successful or not."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[AttemptOutcome] = mapped_column(enum_column(AttemptOutcome, length=16))
    detail: Mapped[str | None] = mapped_column(Text)


class Verification(Base):
    """One re-check of a noticed URL through the safe fetcher."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_item_id: Mapped[int] = mapped_column(ForeignKey("notice_items.id"), index=True)
    checked_at: Mapped[datetime]
    outcome: Mapped[VerificationOutcome] = mapped_column(enum_column(VerificationOutcome))
    http_status: Mapped[int | None] = mapped_column(Integer)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
