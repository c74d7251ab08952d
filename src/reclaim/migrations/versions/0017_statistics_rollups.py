"""Statistics: monthly rollups, their durations, stale marks, and covering indexes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 17:30:00

``statistics_rollups``: a closed month's additive figures (no filter), computed by the
live queries; ``statistics_rollup_durations``: the durations its spreads are ranked
from; ``statistics_stale_marks``: a change to a counted row (a case's or report's
creation, a notice's sending it is attributed to) that makes the rollups covering it
stale.  Covering indexes for the joins of the live queries.  New tables and indexes
only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_stats_decisions_item_created", "decisions", ["item_id", "created_at"]),
    ("ix_stats_items_report_kind", "items", ["report_id", "kind"]),
    ("ix_stats_notices_status_deadline", "notices", ["status", "deadline_at"]),
    (
        "ix_stats_audit_events_case_views",
        "audit_events",
        ["tag", "target_id", "target_type", "actor_type", "created_at"],
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_table(
        "statistics_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("end_at", sa.DateTime(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_rollups")),
        sa.UniqueConstraint("offset_minutes", "month", name="uq_statistics_rollups_offset_month"),
    )
    op.create_table(
        "statistics_rollup_durations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollup_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rollup_id"],
            ["statistics_rollups.id"],
            name=op.f("fk_statistics_rollup_durations_rollup_id_statistics_rollups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_rollup_durations")),
    )
    op.create_index(
        "ix_statistics_rollup_durations_rollup_measure",
        "statistics_rollup_durations",
        ["rollup_id", "measure"],
    )
    op.create_table(
        "statistics_stale_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("anchor_at", sa.DateTime(), nullable=True),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_stale_marks")),
    )
    op.create_index(
        op.f("ix_statistics_stale_marks_anchor_at"), "statistics_stale_marks", ["anchor_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_statistics_stale_marks_anchor_at"), table_name="statistics_stale_marks")
    op.drop_table("statistics_stale_marks")
    op.drop_index(
        "ix_statistics_rollup_durations_rollup_measure", table_name="statistics_rollup_durations"
    )
    op.drop_table("statistics_rollup_durations")
    op.drop_table("statistics_rollups")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
