"""vPDQ frame lists of ``vpdq`` signals

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 12:50:00

A video's vPDQ signal is a row of ``signals`` (type ``vpdq``, value the SHA-256 of its
compact frame list) like any other, so banks, the feed, provenance and withdrawal work
unchanged; its frames (distinct hashes with quality, and per sampled frame the hash,
frame number and timestamp) are stored once beside it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "video_frames",
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("frame_count", sa.Integer(), nullable=False),
        sa.Column("distinct_count", sa.Integer(), nullable=False),
        sa.Column("frames", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signals.id"], name=op.f("fk_video_frames_signal_id_signals")
        ),
        sa.PrimaryKeyConstraint("signal_id", name=op.f("pk_video_frames")),
    )


def downgrade() -> None:
    op.drop_table("video_frames")
