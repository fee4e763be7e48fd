"""open data: search index, facets, feedback, api keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 07:54:49.824138
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "od_api_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_od_api_key")),
        sa.UniqueConstraint("key_sha256", name=op.f("uq_od_api_key_key_sha256")),
    )
    op.create_table(
        "od_dataset",
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "formats", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("is_geo", sa.Boolean(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_code"],
            ["resource.code"],
            name=op.f("fk_od_dataset_resource_code_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_code", name=op.f("pk_od_dataset")),
    )
    op.create_table(
        "od_facet",
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_code"],
            ["resource.code"],
            name=op.f("fk_od_facet_resource_code_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("facet", "value", "resource_code", name=op.f("pk_od_facet")),
    )
    with op.batch_alter_table("od_facet", schema=None) as batch_op:
        batch_op.create_index("ix_od_facet_resource", ["resource_code"], unique=False)

    op.create_table(
        "od_feedback",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["resource_code"], ["resource.code"], name=op.f("fk_od_feedback_resource_code_resource")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_od_feedback")),
    )
    with op.batch_alter_table("od_feedback", schema=None) as batch_op:
        batch_op.create_index(
            "ix_od_feedback_resource_created", ["resource_code", "created_at"], unique=False
        )

    op.create_table(
        "od_search_term",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_code"],
            ["resource.code"],
            name=op.f("fk_od_search_term_resource_code_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "resource_code", name=op.f("pk_od_search_term")),
    )
    with op.batch_alter_table("od_search_term", schema=None) as batch_op:
        batch_op.create_index("ix_od_search_term_resource", ["resource_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("od_search_term", schema=None) as batch_op:
        batch_op.drop_index("ix_od_search_term_resource")

    op.drop_table("od_search_term")
    with op.batch_alter_table("od_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_od_feedback_resource_created")

    op.drop_table("od_feedback")
    with op.batch_alter_table("od_facet", schema=None) as batch_op:
        batch_op.drop_index("ix_od_facet_resource")

    op.drop_table("od_facet")
    op.drop_table("od_dataset")
    op.drop_table("od_api_key")
