"""Partner match volumes: signals and videos matched per partner, day, bank and category

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 09:00:00

``partner_match_volumes``: counts only (never the hashes partners asked about), per
partner and the operator's calendar day; the row with bank ``""`` holds what was asked,
the rows per bank and category what matched there.  A new table only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_match_volumes",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("bank", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("signals", sa.BigInteger(), nullable=False),
        sa.Column("signals_matched", sa.BigInteger(), nullable=False),
        sa.Column("videos", sa.BigInteger(), nullable=False),
        sa.Column("videos_matched", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_match_volumes_partner_id_partners"),
        ),
        sa.PrimaryKeyConstraint(
            "day", "partner_id", "bank", "category", name=op.f("pk_partner_match_volumes")
        ),
    )


def downgrade() -> None:
    op.drop_table("partner_match_volumes")
