"""The statistics' own tables (the monthly report's mailings, an outbox; the monthly
rollups, their durations and the marks that make them stale) and the indexes its
queries need on other features' tables (declared here, beside the queries that use
them; migrations 0011 and 0017 create them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reclaim.audit.models import AuditEvent
from reclaim.banks.models import BankEntry
from reclaim.cases.models import Case, Decision, Item, Report
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
    # Migration 0017: covering indexes, so the joins read the index and not the rows.
    Index("ix_stats_decisions_item_created", Decision.item_id, Decision.created_at),
    Index("ix_stats_items_report_kind", Item.report_id, Item.kind),
    Index("ix_stats_notices_status_deadline", Notice.status, Notice.deadline_at),
    Index(
        "ix_stats_audit_events_case_views",
        AuditEvent.tag,
        AuditEvent.target_id,
        AuditEvent.target_type,
        AuditEvent.actor_type,
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


class Rollup(Base):
    """One closed month's figures (no filter), computed by the same queries as the live
    path and kept until a change to a row they count marks them stale (``StaleMark``).

    ``start_at``/``end_at`` bound the month in UTC on a clock ``offset_minutes`` ahead
    of UTC; ``figures`` holds the additive counts (intake, removal per platform) and
    ``RollupDuration`` the durations the spreads are ranked from.
    """

    __tablename__ = "statistics_rollups"

    id: Mapped[int] = mapped_column(primary_key=True)
    offset_minutes: Mapped[int] = mapped_column(Integer)
    month: Mapped[str] = mapped_column(String(7))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    computed_at: Mapped[datetime]
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("offset_minutes", "month", name="uq_statistics_rollups_offset_month"),
    )


class RollupDuration(Base):
    """One duration of a rolled-up month: a removed page's time to removal (key: the
    platform), a case's time to first look or to decision (key: its urgency)."""

    __tablename__ = "statistics_rollup_durations"

    id: Mapped[int] = mapped_column(primary_key=True)
    rollup_id: Mapped[int] = mapped_column(ForeignKey("statistics_rollups.id", ondelete="CASCADE"))
    measure: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    seconds: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index("ix_statistics_rollup_durations_rollup_measure", "rollup_id", "measure"),
    )


class StaleMark(Base):
    """A change to a row the figures count: the moment its figures are attributed to
    (a case's or report's creation, a notice's sending; none: every month) and when it
    was made.  A rollup covering ``anchor_at`` computed before ``marked_at`` is stale."""

    __tablename__ = "statistics_stale_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    anchor_at: Mapped[datetime | None] = mapped_column(index=True)
    marked_at: Mapped[datetime]


# Every session that can write these tables marks what it changes (the listener lives
# in staleness.py, which needs the models above).
from reclaim.statistics import staleness as _staleness  # noqa: E402

__all__ = ["STATISTICS_INDEXES", "Mailing", "Rollup", "RollupDuration", "StaleMark", "_staleness"]
