"""directory

Revision ID: 0001
Revises:
Create Date: 2026-11-21 07:23:42.979587
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "node",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=255), nullable=True),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.Column("public_key", sa.String(length=64), nullable=True),
        sa.Column("is_self", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_node")),
    )
    op.create_table(
        "department",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("node_code", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_code"], ["node.code"], name=op.f("fk_department_node_code_node")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint("node_code", "code", name=op.f("uq_department_node_code_code")),
    )
    op.create_table(
        "resource",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("classification", sa.String(length=128), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("share_class", sa.String(length=16), nullable=False),
        sa.Column("share_conditions", sa.Text(), nullable=True),
        sa.Column("open_class", sa.String(length=16), nullable=False),
        sa.Column("update_cycle", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("tags", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("licence", sa.String(length=64), nullable=True),
        sa.Column("identifier", sa.String(length=64), nullable=True),
        sa.Column(
            "data_items", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("schema_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("quality_score", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["department.id"], name=op.f("fk_resource_provider_id_department")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_resource")),
    )
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resource_open_class"), ["open_class"], unique=False)
        batch_op.create_index(batch_op.f("ix_resource_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resource_share_class"), ["share_class"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_share_class"))
        batch_op.drop_index(batch_op.f("ix_resource_provider_id"))
        batch_op.drop_index(batch_op.f("ix_resource_open_class"))

    op.drop_table("resource")
    op.drop_table("department")
    op.drop_table("node")
