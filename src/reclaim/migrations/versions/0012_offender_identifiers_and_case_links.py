"""Offender identifiers, the cases that name them, case links and clusters

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:30:00

New tables only.  Existing cases get no identifiers or links here: posted-by accounts
and profile URLs already in the database become identifiers, and cases are linked,
when ``reclaim`` links them (the console does it per case; see docs/analysts.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offender_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lookup", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offender_identifiers")),
        sa.UniqueConstraint("lookup", name="uq_offender_identifiers_lookup"),
    )
    op.create_table(
        "case_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("identifier_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_case_identifiers_added_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_identifiers_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["identifier_id"],
            ["offender_identifiers.id"],
            name=op.f("fk_case_identifiers_identifier_id_offender_identifiers"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_case_identifiers_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_identifiers")),
        sa.UniqueConstraint(
            "case_id", "identifier_id", "source", name="uq_case_identifiers_case_identifier"
        ),
    )
    with op.batch_alter_table("case_identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_identifiers_case_id"), ["case_id"])
        batch_op.create_index(batch_op.f("ix_case_identifiers_identifier_id"), ["identifier_id"])
    op.create_table(
        "threat_bands",
        sa.Column("identifier_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["identifier_id"],
            ["offender_identifiers.id"],
            name=op.f("fk_threat_bands_identifier_id_offender_identifiers"),
        ),
        sa.PrimaryKeyConstraint("identifier_id", "band", name=op.f("pk_threat_bands")),
    )
    with op.batch_alter_table("threat_bands", schema=None) as batch_op:
        batch_op.create_index("ix_threat_bands_band_digest", ["band", "digest"])
    op.create_table(
        "case_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("other_case_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("shared", sa.String(length=128), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_links_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["other_case_id"], ["cases.id"], name=op.f("fk_case_links_other_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_links")),
        sa.UniqueConstraint(
            "case_id", "other_case_id", "reason", "shared", name="uq_case_links_pair_shared"
        ),
    )
    with op.batch_alter_table("case_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_links_other_case_id"), ["other_case_id"])
    op.create_table(
        "cluster_members",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_cluster_members_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_cluster_members")),
    )
    with op.batch_alter_table("cluster_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_members_cluster_id"), ["cluster_id"])


def downgrade() -> None:
    op.drop_table("cluster_members")
    op.drop_table("case_links")
    op.drop_table("threat_bands")
    op.drop_table("case_identifiers")
    op.drop_table("offender_identifiers")
