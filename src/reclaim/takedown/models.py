"""Notices, the pages and media they name, the delivery outbox and verification checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reclaim.cases.domain import Classification
from reclaim.cases.models import Case, Item, Media, Page
from reclaim.platforms.models import Platform
from reclaim.storage.base import Base
from reclaim.storage.types import enum_column, utcnow
from reclaim.takedown.domain import (
    AttemptOutcome,
    Channel,
    DeliveryPurpose,
    DeliveryStatus,
    MediaOutcome,
    NoticeKind,
    NoticeStatus,
    PageOutcome,
    VerificationOutcome,
)


class Notice(Base):
    """A removal request to one platform for some pages (and the media on them).

    A notice belongs to no case: the same page reported in several cases is noticed
    once, with the strictest deadline its decisions call for.
    """

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(enum_column(NoticeKind, length=16))
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
    # What was sent, as the platform received it (kept after sending).
    subject: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)

    platform: Mapped[Platform] = relationship()
    pages: Mapped[list[NoticePage]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="NoticePage.id"
    )


class NoticePage(Base):
    """One page in a notice, with where its removal stands.

    A page is removed when it is gone, or when every decided media object it showed
    is; partially removed while some are gone and others are still up.
    """

    __tablename__ = "notice_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    classification: Mapped[Classification] = mapped_column(enum_column(Classification))
    outcome: Mapped[PageOutcome] = mapped_column(enum_column(PageOutcome))
    # What the platform said, kept apart from what we saw.
    platform_outcome: Mapped[PageOutcome | None] = mapped_column(enum_column(PageOutcome))
    platform_reason: Mapped[str | None] = mapped_column(Text)
    platform_answered_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]  # the first check that found the page or all media gone
    checks_done: Mapped[int] = mapped_column(Integer, default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)

    notice: Mapped[Notice] = relationship(back_populates="pages")
    page: Mapped[Page] = relationship()
    media: Mapped[list[NoticeMedia]] = relationship(
        back_populates="notice_page", cascade="all, delete-orphan", order_by="NoticeMedia.id"
    )

    __table_args__ = (UniqueConstraint("notice_id", "page_id", name="uq_notice_pages_notice_page"),)


class NoticeMedia(Base):
    """One decided media object named in a notice, with where its removal stands."""

    __tablename__ = "notice_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_page_id: Mapped[int] = mapped_column(
        ForeignKey("notice_pages.id", ondelete="CASCADE"), index=True
    )
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id"), index=True)
    outcome: Mapped[MediaOutcome] = mapped_column(enum_column(MediaOutcome, length=16))
    baseline_sha256: Mapped[str | None] = mapped_column(String(64))  # content when noticed
    removed_at: Mapped[datetime | None]

    notice_page: Mapped[NoticePage] = relationship(back_populates="media")
    media: Mapped[Media] = relationship()

    __table_args__ = (
        UniqueConstraint("notice_page_id", "media_id", name="uq_notice_media_page_media"),
    )


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
    """One re-check of a noticed page (and each of its decided media) through the
    safe fetcher."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_page_id: Mapped[int] = mapped_column(ForeignKey("notice_pages.id"), index=True)
    checked_at: Mapped[datetime]
    outcome: Mapped[VerificationOutcome] = mapped_column(enum_column(VerificationOutcome))
    http_status: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    #: Who asked for it: None for the schedule, a user for "check now".
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    media: Mapped[list[MediaCheck]] = relationship(
        back_populates="verification", cascade="all, delete-orphan", order_by="MediaCheck.id"
    )


class MediaCheck(Base):
    """What one verification found for one noticed media object."""

    __tablename__ = "media_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(
        ForeignKey("verifications.id", ondelete="CASCADE"), index=True
    )
    notice_media_id: Mapped[int] = mapped_column(ForeignKey("notice_media.id"), index=True)
    outcome: Mapped[VerificationOutcome] = mapped_column(enum_column(VerificationOutcome))
    http_status: Mapped[int | None] = mapped_column(Integer)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)

    verification: Mapped[Verification] = relationship(back_populates="media")
    notice_media: Mapped[NoticeMedia] = relationship()


class NoticeCitation(Base):
    """A case an account notice cites (one row per item of the case on the platform,
    or one with no item): one notice to a platform covers every victim's report of one
    account, and each cited case shows the notice.  Never a reporter's details."""

    __tablename__ = "notice_citations"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    item: Mapped[Item | None] = relationship()
