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


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("threat_platform")
        batch_op.drop_column("threat_account")
