"""the catalogue as data: catalogued resources, their versions, the event log, counters

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:00:00.000000

Expand only: new tables. The built-in resources join the catalogue when `hub node init` (or the
first import) records them as published version 1.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "catalogue_resource",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("draft", JSON_DOC, nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("submitted_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["department.id"],
            name=op.f("fk_catalogue_resource_provider_id_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_resource")),
        sa.UniqueConstraint("code", name=op.f("uq_catalogue_resource_code")),
        sa.UniqueConstraint("identifier", name=op.f("uq_catalogue_resource_identifier")),
    )
    op.create_index(
        op.f("ix_catalogue_resource_provider_id"), "catalogue_resource", ["provider_id"]
    )
    op.create_index(op.f("ix_catalogue_resource_status"), "catalogue_resource", ["status"])
    op.create_table(
        "catalogue_version",
        sa.Column("id", BIG_PK, autoincrement=True, nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("descriptor", JSON_DOC, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=128), nullable=False),
        sa.Column("previous_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalogue_resource.id"],
            name=op.f("fk_catalogue_version_resource_id_catalogue_resource"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_version")),
        sa.UniqueConstraint(
            "resource_id", "number", name=op.f("uq_catalogue_version_resource_id_number")
        ),
    )
    op.create_table(
        "catalogue_event",
        sa.Column("id", BIG_PK, autoincrement=True, nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("detail", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalogue_resource.id"],
            name=op.f("fk_catalogue_event_resource_id_catalogue_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_event")),
    )
    op.create_index(op.f("ix_catalogue_event_resource_id"), "catalogue_event", ["resource_id"])
    op.create_table(
        "catalogue_counter",
        sa.Column("provider_code", sa.String(length=32), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("provider_code", name=op.f("pk_catalogue_counter")),
    )
    op.create_table(
        "catalogue_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_generation")),
    )
    op.execute("INSERT INTO catalogue_generation (id, generation) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("catalogue_generation")
    op.drop_table("catalogue_counter")
    op.drop_index(op.f("ix_catalogue_event_resource_id"), table_name="catalogue_event")
    op.drop_table("catalogue_event")
    op.drop_table("catalogue_version")
    op.drop_index(op.f("ix_catalogue_resource_status"), table_name="catalogue_resource")
    op.drop_index(op.f("ix_catalogue_resource_provider_id"), table_name="catalogue_resource")
    op.drop_table("catalogue_resource")
