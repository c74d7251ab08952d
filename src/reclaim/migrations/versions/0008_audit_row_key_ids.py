"""Audit rows name the HMAC key that hashed them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:20:00

Each audit row's hash becomes an HMAC under a key kept outside the database
(``RECLAIM_AUDIT_KEYS``); the new ``key_id`` column says which key.  Rows already there
keep their plain SHA-256 and a NULL key id: they stay verifiable as the start of the
chain, and every row written after this migration is keyed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("key_id")
