"""The statistics' own table (the monthly report's mailings, an outbox) and the indexes
its queries need on other features' tables (declared here, beside the queries that use
them; migration 0011 creates them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reclaim.audit.models import AuditEvent
from reclaim.banks.models import BankEntry
from reclaim.cases.models import Case, Item, Report
from reclaim.partners.models import Feedback
from reclaim.statistics.domain import MailingStatus
from reclaim.storage.base import Base
from reclaim.storage.types import enum_column, utcnow
from reclaim.takedown.models import Notice

# Periods are ranges of these; joins follow these.
STATISTICS_INDEXES = (
    Index("ix_stats_reports_created_at", Report.created_at),
    Index("ix_stats_cases_created_at", Case.created_at),
    Index("ix_stats_items_report_id", Item.report_id, Item.classification),
    Index("ix_stats_items_case_classification", Item.case_id, Item.classification),
    Index("ix_stats_notices_sent_at", Notice.sent_at),
    Index("ix_stats_bank_entries_added_at", BankEntry.added_at),
    Index("ix_stats_bank_entries_withdrawn_at", BankEntry.withdrawn_at),
    Index("ix_stats_feedback_created_at", Feedback.created_at),
    Index(
        "ix_stats_audit_events_tag_target",
        AuditEvent.tag,
        AuditEvent.target_id,
        AuditEvent.created_at,
    ),
)


class Mailing(Base):
    """The monthly report for one supervisor: committed first, sent after (an outbox)."""

    __tablename__ = "statistics_mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM on the operator's clock
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[MailingStatus] = mapped_column(enum_column(MailingStatus, length=16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("period", "recipient_id", name="uq_statistics_mailings_period_recipient"),
    )
