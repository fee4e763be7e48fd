"""assurance: check runs, findings, quality reports, metric samples

Revision ID: 0006
Revises: 0005 (rechained onto 0005 when the sharing and portal branches merge)
Create Date: 2026-11-21 08:32:46.338459
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "check_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("run_key", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "checks", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_run")),
        sa.UniqueConstraint("system", "run_key", name=op.f("uq_check_run_system_run_key")),
    )
    op.create_table(
        "check_finding",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["check_run.id"],
            name=op.f("fk_check_finding_run_id_check_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_finding")),
    )
    with op.batch_alter_table("check_finding", schema=None) as batch_op:
        batch_op.create_index("ix_check_finding_run_check", ["run_id", "check"], unique=False)
        batch_op.create_index(batch_op.f("ix_check_finding_severity"), ["severity"], unique=False)

    op.create_table(
        "metric_sample",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("labels", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["check_run.id"],
            name=op.f("fk_metric_sample_run_id_check_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_sample")),
        sa.UniqueConstraint(
            "run_id", "name", "labels", name=op.f("uq_metric_sample_run_id_name_labels")
        ),
    )
    with op.batch_alter_table("metric_sample", schema=None) as batch_op:
        batch_op.create_index("ix_metric_sample_name_at", ["name", "at"], unique=False)

    op.create_table(
        "quality_run",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("failed_rows", sa.BigInteger(), nullable=False),
        sa.Column("pass_rate", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("rules", sa.Integer(), nullable=False),
        sa.Column(
            "failures_by_rule",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "samples", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_code"], ["resource.code"], name=op.f("fk_quality_run_resource_code_resource")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["check_run.id"],
            name=op.f("fk_quality_run_run_id_check_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_run")),
        sa.UniqueConstraint(
            "run_id", "resource_code", name=op.f("uq_quality_run_run_id_resource_code")
        ),
    )
    with op.batch_alter_table("quality_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_run_resource_code"), ["resource_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("quality_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_run_resource_code"))

    op.drop_table("quality_run")
    with op.batch_alter_table("metric_sample", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_sample_name_at")

    op.drop_table("metric_sample")
    with op.batch_alter_table("check_finding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_finding_severity"))
        batch_op.drop_index("ix_check_finding_run_check")

    op.drop_table("check_finding")
    op.drop_table("check_run")
