"""Partners (a platform's API identity), their API keys, and the feedback they report

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 18:47:14.922255
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_partners_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_partners_name")),
        sa.UniqueConstraint("platform_id", name=op.f("uq_partners_platform_id")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_api_keys_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_api_keys_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "partner_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("bank_entry_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("observed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_entry_id"],
            ["bank_entries.id"],
            name=op.f("fk_partner_feedback_bank_entry_id_bank_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_partner_feedback_partner_id_partners")
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signals.id"], name=op.f("fk_partner_feedback_signal_id_signals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_feedback")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_partner_feedback_dedupe_key")),
    )
    with op.batch_alter_table("partner_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_partner_feedback_partner", ["partner_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_partner_feedback_signal_id"), ["signal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("partner_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_feedback_signal_id"))
        batch_op.drop_index("ix_partner_feedback_partner")

    op.drop_table("partner_feedback")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_partner_id"))

    op.drop_table("api_keys")
    op.drop_table("partners")
