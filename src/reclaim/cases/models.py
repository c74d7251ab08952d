"""Cases, the reports and items in them; the pages and media they point at; notes,
decisions and quarantined media.

Pages and media are shared by every case that reports them: one URL is one truth
(decided, noticed and verified once), however many victims report it.  A media object
is one picture or video: shown on a page (found by fetching the page for review) or
hashed on a reporter's device (then it belongs to that file item alone and only its
hashes exist here).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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
    MediaOrigin,
    ReporterRole,
    SeenHow,
    Situation,
)
from reclaim.platforms.models import Platform
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
    # The urgent path: the account threatening the reporter (encrypted) and where.
    threat_account: Mapped[str | None] = mapped_column(String(1024))
    threat_platform: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="reports")


class Page(Base):
    """A reported web address (canonical form), shared by every case that reports it."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    platform: Mapped[Platform | None] = relationship()
    media: Mapped[list[Media]] = relationship(back_populates="page", order_by="Media.id")


class Item(Base):
    """One URL, or one file hashed on the reporter's device, in a case."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    kind: Mapped[ItemKind] = mapped_column(enum_column(ItemKind))
    url: Mapped[str | None] = mapped_column(Text)  # as the reporter wrote it
    # URL items: the page the URL names (its canonical form, shared across cases).
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), index=True)
    media_kind: Mapped[MediaKind | None] = mapped_column(enum_column(MediaKind))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The decision in force (see Decision for the history), denormalised for the queue.
    classification: Mapped[Classification | None] = mapped_column(enum_column(Classification))
    # The reporter withdrew this item (its hashes became tombstones in the feed).
    withdrawn_at: Mapped[datetime | None]
    # The account that posted it, when an analyst knows it (quoted in notices).
    posted_by: Mapped[str | None] = mapped_column(String(255))

    case: Mapped[Case] = relationship(back_populates="items")
    page: Mapped[Page | None] = relationship()
    # File items: the one media object hashed on the device.
    device_media: Mapped[list[Media]] = relationship(
        back_populates="item", order_by="Media.id", cascade="all, delete-orphan"
    )

    @property
    def media(self) -> list[Media]:
        """What this item shows: its page's media, or the file hashed on the device."""
        if self.page is not None:
            return list(self.page.media)
        return list(self.device_media)


class Media(Base):
    """One picture or video: the unit that is hashed, decided, noticed and verified."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Exactly one of these: the page that shows it, or the file item hashed on a device.
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    origin: Mapped[MediaOrigin] = mapped_column(enum_column(MediaOrigin, length=16))
    kind: Mapped[MediaKind | None] = mapped_column(enum_column(MediaKind))
    url: Mapped[str | None] = mapped_column(Text)  # where it was fetched from
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)  # the fetched bytes
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_fetched_at: Mapped[datetime | None]
    # The first person at the hotline who saw it; what makes its hashes "verified".
    seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    seen_at: Mapped[datetime | None]
    seen_how: Mapped[SeenHow | None] = mapped_column(enum_column(SeenHow, length=16))

    page: Mapped[Page | None] = relationship(back_populates="media")
    item: Mapped[Item | None] = relationship(back_populates="device_media")
    seen_by: Mapped[User | None] = relationship()
    signals: Mapped[list[MediaSignal]] = relationship(
        back_populates="media", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("page_id", "url", "sha256", name="uq_media_page_url_sha256"),
    )

    @property
    def from_device(self) -> bool:
        return self.origin is MediaOrigin.DEVICE


class MediaSignal(Base):
    """A signal computed for a media object (its MD5, SHA-256 and PDQ, say)."""

    __tablename__ = "media_signals"

    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), primary_key=True, index=True)
    quality: Mapped[int | None] = mapped_column(Integer)

    media: Mapped[Media] = relationship(back_populates="signals")
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
    media: Mapped[list[Media]] = relationship(secondary="decision_media", order_by="Media.id")


class DecisionMedia(Base):
    """Which media objects a decision covers (what it banks and what notices name)."""

    __tablename__ = "decision_media"

    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True
    )
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id"), primary_key=True, index=True)


class QuarantinedMedia(Base):
    """The bytes of a media object fetched for review (for a case's item), kept encrypted
    in the quarantine store until purged."""

    __tablename__ = "quarantined_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id"), index=True)
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
    media: Mapped[Media] = relationship()


class LegalHold(Base):
    """A case's evidence kept past its retention period until the hold is released.

    Set by a supervisor, or automatically when a case is referred to police or a
    prosecutor; the retention purge skips the quarantined media of held cases.
    """

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: automatic
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A retention hold ends by itself (a referral keeps evidence for the legal 180
    # days); a legal hold (None) lasts until a person releases it.
    until: Mapped[datetime | None]
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(Text)


class PageSnapshot(Base):
    """The HTML of a page as the review fetch saw it, encrypted in the quarantine store,
    with the response headers (evidence of what the page was and when)."""

    __tablename__ = "page_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    object_id: Mapped[str] = mapped_column(String(64), unique=True)  # in QuarantineStore
    final_url: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    purged_at: Mapped[datetime | None]
