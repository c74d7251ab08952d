"""Patrol: watched pages and the re-uploads found on them

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02 13:45:00

Operators list pages to watch (tied to the case whose content the platform hosted);
the patrol re-fetches them and records each re-upload it adds to the case.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watched_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.Column("last_problem", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_watched_pages_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_watched_pages_platform_id_platforms")
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_watched_pages_added_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watched_pages")),
    )
    with op.batch_alter_table("watched_pages") as batch_op:
        batch_op.create_index(batch_op.f("ix_watched_pages_case_id"), ["case_id"])
        batch_op.create_index(batch_op.f("ix_watched_pages_host"), ["host"])
    op.create_table(
        "patrol_finds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("bank", sa.String(length=64), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["watch_id"], ["watched_pages.id"], name=op.f("fk_patrol_finds_watch_id_watched_pages")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_patrol_finds_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], name=op.f("fk_patrol_finds_media_id_media")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_patrol_finds_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_finds")),
        sa.UniqueConstraint("item_id", name=op.f("uq_patrol_finds_item_id")),
    )
    with op.batch_alter_table("patrol_finds") as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_finds_watch_id"), ["watch_id"])


def downgrade() -> None:
    op.drop_table("patrol_finds")
    op.drop_table("watched_pages")
