"""ORM models: the names DESIGN.md uses, as tables.

Conventions: integer surrogate keys; timestamps are aware UTC (`UtcDateTime`); enums
are stored by value as strings; secrets (PIN, passwords, TOTP seeds) never in clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from reclaim.domain.accounts import Role
from reclaim.domain.banks import EntrySource
from reclaim.domain.cases import AgeGroup, CaseStatus, ItemKind, MediaKind, ReporterRole, Situation
from reclaim.domain.decisions import Classification, DecisionStatus
from reclaim.domain.notices import ItemOutcome, NoticeStatus, VerificationOutcome
from reclaim.domain.signals import SignalType
from reclaim.storage.types import UtcDateTime, enum_column, utcnow

# Named constraints, so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


class User(Base):
    """A staff account (analyst, supervisor, social worker, police liaison, admin)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(255))  # encrypted
    # Set when the user proved their authenticator works; until then they cannot log in.
    totp_enabled_at: Mapped[datetime | None]
    # The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]


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


class Platform(Base):
    """A service that hosts content and receives notices."""

    __tablename__ = "platforms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    abuse_email: Mapped[str | None] = mapped_column(String(254))
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_secret: Mapped[str | None] = mapped_column(String(255))  # encrypted
    jurisdiction: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    domains: Mapped[list[PlatformDomain]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="PlatformDomain.domain"
    )


class PlatformDomain(Base):
    """A domain a platform serves; hosts match it by suffix (a.b.example.com → example.com)."""

    __tablename__ = "platform_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    platform: Mapped[Platform] = relationship(back_populates="domains")


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


class Signal(Base):
    """A hash value, stored once however many items and banks refer to it."""

    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[SignalType] = mapped_column(enum_column(SignalType, length=24))
    value: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("type", "value", name="uq_signals_type_value"),)


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


class Bank(Base):
    """A named list of signals with provenance."""

    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BankEntry(Base):
    """A signal in a bank.  Withdrawn entries stay as tombstones for the hash feed."""

    __tablename__ = "bank_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), index=True)
    quality: Mapped[int | None] = mapped_column(Integer)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[EntrySource] = mapped_column(enum_column(EntrySource))
    source_ref: Mapped[str | None] = mapped_column(String(255))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    # Position in the bank's change feed: set on every add and every withdrawal.
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)

    signal: Mapped[Signal] = relationship()
    bank: Mapped[Bank] = relationship()

    __table_args__ = (UniqueConstraint("bank_id", "signal_id", name="uq_bank_entries_bank_signal"),)


class AuditEvent(Base):
    """One row of the append-only, hash-chained audit trail."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), index=True)
    actor_type: Mapped[str] = mapped_column(String(16))  # user, reporter, partner, system
    actor_id: Mapped[int | None] = mapped_column(Integer)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_audit_events_target", "target_type", "target_id"),)


class Counter(Base):
    """Named monotonic counters, incremented under a row lock.

    The hash feed's ``change_seq`` comes from here rather than from an autoincrement
    column: a writer holds the counter's row lock until it commits, so sequence numbers
    become visible in order and a partner paging by cursor never skips a change that
    committed late.
    """

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ThrottleFailure(Base):
    """One failed attempt (a wrong PIN, a wrong password) counted against a key.

    ``bucket`` names what is throttled (``pin-case``, ``pin-client``, ``login-account``,
    ``login-client``); ``key`` is a case number, a client address or an account, stored
    as a keyed hash so the table holds no addresses in clear.
    """

    __tablename__ = "throttle_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_throttle_failures_lookup", "bucket", "key", "created_at"),)


class StaffSession(Base):
    """A server-side staff session.  The cookie holds a random token; we keep its hash."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # False between the password and the second factor: such a session reaches nothing
    # but the second-factor (or enrolment) page.
    mfa_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]  # the absolute timeout
    revoked_at: Mapped[datetime | None]
    client: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()


class EnrolmentToken(Base):
    """A one-time link that lets a new (or reset) staff user set a password and TOTP."""

    __tablename__ = "enrolment_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """A single-use second-factor recovery code, stored hashed (argon2)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


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
    purpose: Mapped[str] = mapped_column(String(16))  # notice, reminder
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
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
    outcome: Mapped[str] = mapped_column(String(16))  # sent, temporary, permanent
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


# --- partners (the partner API) -----------------------------------------------------


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
    outcome: Mapped[str] = mapped_column(String(32))  # domain.partners.FeedbackOutcome
    url: Mapped[str | None] = mapped_column(Text)
    observed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_partner_feedback_partner", "partner_id", "id"),)
