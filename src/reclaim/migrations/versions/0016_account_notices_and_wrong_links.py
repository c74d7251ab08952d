"""Account notices citing a cluster's cases, and links marked as wrong

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 17:00:00

``notice_citations``: the cases (and their items on the platform) an account notice
cites, so one notice to a platform covers every victim's report of one account and each
cited case shows it.  ``link_rejections``: a supervisor said two cases are not linked
(or a case does not name an identifier); linking never makes that link again.
New tables only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_citations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_citations_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_notice_citations_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_notice_citations_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_citations")),
    )
    with op.batch_alter_table("notice_citations") as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_citations_notice_id"), ["notice_id"])
        batch_op.create_index(batch_op.f("ix_notice_citations_case_id"), ["case_id"])
    op.create_table(
        "link_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("other_case_id", sa.Integer(), nullable=True),
        sa.Column("identifier_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rejected_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_link_rejections_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["other_case_id"], ["cases.id"], name=op.f("fk_link_rejections_other_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["identifier_id"],
            ["offender_identifiers.id"],
            name=op.f("fk_link_rejections_identifier_id_offender_identifiers"),
        ),
        sa.ForeignKeyConstraint(
            ["rejected_by_id"], ["users.id"], name=op.f("fk_link_rejections_rejected_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_rejections")),
    )
    with op.batch_alter_table("link_rejections") as batch_op:
        batch_op.create_index(batch_op.f("ix_link_rejections_case_id"), ["case_id"])
        batch_op.create_index(batch_op.f("ix_link_rejections_other_case_id"), ["other_case_id"])


def downgrade() -> None:
    op.drop_table("link_rejections")
    op.drop_table("notice_citations")
