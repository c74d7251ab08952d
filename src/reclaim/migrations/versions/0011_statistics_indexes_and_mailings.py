"""Statistics: the indexes its queries need, and the monthly report's mailings

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_stats_reports_created_at", "reports", ["created_at"]),
    ("ix_stats_cases_created_at", "cases", ["created_at"]),
    ("ix_stats_items_report_id", "items", ["report_id", "classification"]),
    ("ix_stats_items_case_classification", "items", ["case_id", "classification"]),
    ("ix_stats_notices_sent_at", "notices", ["sent_at"]),
    ("ix_stats_bank_entries_added_at", "bank_entries", ["added_at"]),
    ("ix_stats_bank_entries_withdrawn_at", "bank_entries", ["withdrawn_at"]),
    ("ix_stats_feedback_created_at", "partner_feedback", ["created_at"]),
    ("ix_stats_audit_events_tag_target", "audit_events", ["tag", "target_id", "created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_table(
        "statistics_mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_statistics_mailings_recipient_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_mailings")),
        sa.UniqueConstraint(
            "period", "recipient_id", name="uq_statistics_mailings_period_recipient"
        ),
    )
    op.create_index(
        op.f("ix_statistics_mailings_status"), "statistics_mailings", ["status"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_statistics_mailings_status"), table_name="statistics_mailings")
    op.drop_table("statistics_mailings")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
