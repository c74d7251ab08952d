"""Partners (platforms' API identities), their keys, their feedback, and how much they
match."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reclaim.partners.domain import FeedbackOutcome
from reclaim.platforms.models import Platform
from reclaim.storage.base import Base
from reclaim.storage.types import enum_column, utcnow


class Partner(Base):
    """A platform's API identity: it holds the platform's keys and sees its notices."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # One identity per platform: what a partner sees is scoped by this platform.
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), unique=True)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    platform: Mapped[Platform] = relationship()
    keys: Mapped[list[ApiKey]] = relationship(back_populates="partner", order_by="ApiKey.id")


class ApiKey(Base):
    """A partner's API key: the prefix in clear, the secret as a SHA-256 digest.

    The secret is 256 random bits, so a fast hash is as safe as a slow one (nothing to
    guess) and checking it costs microseconds on every API request; argon2 would cost
    tens of milliseconds each.  See services/partners.py.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Written at most once a minute per key, so reads do not become writes.
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    partner: Mapped[Partner] = relationship(back_populates="keys")


class Feedback(Base):
    """What a partner reported doing about a signal (or a match on a bank entry).

    ``dedupe_key`` is a digest of the report's content: a retried request is counted
    once, while reports that differ in URL or time are counted apart.
    """

    __tablename__ = "partner_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), index=True)
    bank_entry_id: Mapped[int | None] = mapped_column(ForeignKey("bank_entries.id"))
    outcome: Mapped[FeedbackOutcome] = mapped_column(enum_column(FeedbackOutcome))
    url: Mapped[str | None] = mapped_column(Text)
    observed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_partner_feedback_partner", "partner_id", "id"),)


class MatchVolume(Base):
    """How much one partner matched on one day (the operator's calendar day): counts
    only, never the hashes asked about (partners' uploads are not Reclaim's to keep).

    Two kinds of row share the table, told apart by ``bank``:

    * ``bank == ""`` (and ``category == ""``): what the partner *asked*, across the
      banks it asked (all, or its request's ``banks``): ``signals`` and ``videos``
      queried, and of them how many matched at least one entry (``*_matched``).
    * ``bank`` named: of what was asked, how many signals and videos matched at least
      one entry of that bank and category.  A signal that matches two banks counts in
      both rows; ``signals`` and ``videos`` stay 0 here, since a query is not put to
      one bank or category but to every bank at once.

    Rows are only ever added to (``match_volumes.write``: an upsert adding the counts a
    server process gathered), so several processes write the same rows safely.
    """

    __tablename__ = "partner_match_volumes"

    day: Mapped[date] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    bank: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    signals: Mapped[int] = mapped_column(BigInteger, default=0)
    signals_matched: Mapped[int] = mapped_column(BigInteger, default=0)
    videos: Mapped[int] = mapped_column(BigInteger, default=0)
    videos_matched: Mapped[int] = mapped_column(BigInteger, default=0)
