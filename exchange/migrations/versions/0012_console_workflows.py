"""disputes (异议/纠错) about shared records

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:20:00.000000

Expand only: one new table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sharing_dispute",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("record_key", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("claim", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("raised_by", sa.String(length=128), nullable=False),
        sa.Column("raiser_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_batch_id", sa.String(length=36), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("fixed_by_batch", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["department.id"],
            name=op.f("fk_sharing_dispute_provider_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["raiser_id"], ["department.id"], name=op.f("fk_sharing_dispute_raiser_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["resource_code"],
            ["resource.code"],
            name=op.f("fk_sharing_dispute_resource_code_resource"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_dispute")),
    )
    op.create_index(
        op.f("ix_sharing_dispute_provider_id"), "sharing_dispute", ["provider_id"], unique=False
    )
    op.create_index(
        op.f("ix_sharing_dispute_raiser_id"), "sharing_dispute", ["raiser_id"], unique=False
    )
    op.create_index(
        "ix_sharing_dispute_record",
        "sharing_dispute",
        ["resource_code", "record_key", "status"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_sharing_dispute_record", table_name="sharing_dispute")
    op.drop_index(op.f("ix_sharing_dispute_raiser_id"), table_name="sharing_dispute")
    op.drop_index(op.f("ix_sharing_dispute_provider_id"), table_name="sharing_dispute")
    op.drop_table("sharing_dispute")
