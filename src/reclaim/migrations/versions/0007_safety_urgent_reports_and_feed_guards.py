"""Safety: the urgent path's threat details on reports; the feed's allow list and holds

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:30:00

A report of a threat may name the threatening account (encrypted) and the platform.
Operators keep an allow list of benign hashes (memes, stock photos, test media) that
never enter the hash feed; the flood guard holds self-reported hashes that match
widely out of the feed until an analyst looks, and counts which partners matched them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("threat_account", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("threat_platform", sa.String(length=100), nullable=True))
    op.create_table(
        "benign_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signals.id"], name=op.f("fk_benign_signals_signal_id_signals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benign_signals")),
        sa.UniqueConstraint("signal_id", name=op.f("uq_benign_signals_signal_id")),
    )
    op.create_table(
        "feed_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("partners", sa.Integer(), nullable=False),
        sa.Column("held_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["bank_entries.id"], name=op.f("fk_feed_holds_entry_id_bank_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_holds")),
    )
    op.create_index(op.f("ix_feed_holds_entry_id"), "feed_holds", ["entry_id"], unique=False)
    op.create_table(
        "entry_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["bank_entries.id"], name=op.f("fk_entry_matches_entry_id_bank_entries")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_entry_matches_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_matches")),
        sa.UniqueConstraint("entry_id", "partner_id", name="uq_entry_matches_entry_partner"),
    )


def downgrade() -> None:
    op.drop_table("entry_matches")
    op.drop_index(op.f("ix_feed_holds_entry_id"), table_name="feed_holds")
    op.drop_table("feed_holds")
    op.drop_table("benign_signals")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("threat_platform")
        batch_op.drop_column("threat_account")
