"""Agencies, who works for them, referrals, their outbox, consent and the custody log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reclaim.accounts.models import User
from reclaim.cases.models import Case
from reclaim.referrals.domain import (
    AgencyKind,
    ConsentHow,
    ConsentSubject,
    CustodyAction,
    ReferralStatus,
)
from reclaim.storage.base import Base
from reclaim.storage.types import enum_column, utcnow
from reclaim.takedown.domain import Channel, DeliveryPurpose, DeliveryStatus


class Agency(Base):
    """A receiving agency: social services, a police unit, a prosecutor, a hotline."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[AgencyKind] = mapped_column(enum_column(AgencyKind))
    region: Mapped[str | None] = mapped_column(String(64))  # a county or city
    email: Mapped[str | None] = mapped_column(String(254))
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_secret: Mapped[str | None] = mapped_column(String(255))  # encrypted
    language: Mapped[str] = mapped_column(String(8), default="zh_TW")
    # X25519 public key (base64 of 32 bytes) that evidence media is encrypted to.
    public_key: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgencyMember(Base):
    """A staff account (social worker, police liaison) working for one agency."""

    __tablename__ = "agency_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)

    agency: Mapped[Agency] = relationship()


class Referral(Base):
    """One case sent (or to be sent) to one agency, with what it shares."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    status: Mapped[ReferralStatus] = mapped_column(enum_column(ReferralStatus), index=True)
    # The law makes it a duty (a minor's sexual exploitation): proposed automatically.
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the staff asked to share; what went is ``sent_shares`` (consent applied).
    shares: Mapped[list[str]] = mapped_column(JSON, default=list)
    sent_shares: Mapped[list[str] | None] = mapped_column(JSON)
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    next_reminder_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    # The agency's answer: an outcome code (plain words for the reporter) and its text.
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_text: Mapped[str | None] = mapped_column(Text)
    # The one-time link in the email (hashed); cleared once used.
    answer_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    package_sha256: Mapped[str | None] = mapped_column(String(64))

    case: Mapped[Case] = relationship()
    agency: Mapped[Agency] = relationship()


class ReferralDelivery(Base):
    """The referral outbox: one message to one agency on one channel.

    The same protocol and states as the notice outbox (takedown/outbox.py): committed
    with the referral change that calls for it, sent exactly once by email (never
    twice after the point of no return) and by signed webhook (retried with the same
    Idempotency-Key).
    """

    __tablename__ = "referral_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
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

    referral: Mapped[Referral] = relationship()


class Consent(Base):
    """One answer of the reporter to one question; the newest per subject counts."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    subject: Mapped[ConsentSubject] = mapped_column(enum_column(ConsentSubject))
    granted: Mapped[bool] = mapped_column(Boolean)
    how: Mapped[ConsentHow] = mapped_column(enum_column(ConsentHow, length=16))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: portal
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    recorded_by: Mapped[User | None] = relationship()


class CustodyEntry(Base):
    """The chain of custody of a case's evidence: hash-chained per case."""

    __tablename__ = "custody_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    action: Mapped[CustodyAction] = mapped_column(enum_column(CustodyAction, length=16))
    actor: Mapped[str] = mapped_column(String(120))  # "user 3", "agency 2", "system"
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
