"""assurance that acts: run status and as-of date, alert state

Revision ID: 0013
Revises: 0012 (the lead chains the helpers' migrations at merge)
Create Date: 2026-12-06 21:00:00.000000

Expand only: nullable columns on check_run (existing runs take their start as their as-of
date and a status from their counts) and one new table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("check_run") as batch:
        batch.add_column(sa.Column("as_of", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.create_index(batch.f("ix_check_run_as_of"), ["as_of"], unique=False)
    op.execute("UPDATE check_run SET as_of = started_at")
    op.execute(
        "UPDATE check_run SET status = CASE WHEN EXISTS (SELECT 1 FROM check_finding f "
        "WHERE f.run_id = check_run.id AND f.severity IN ('warning', 'critical')) "
        "THEN 'findings' ELSE 'ok' END WHERE finished_at IS NOT NULL"
    )
    op.create_table(
        "assurance_alert",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("notified", JSON, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_id", sa.Uuid(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_to", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["last_run_id"],
            ["check_run.id"],
            name=op.f("fk_assurance_alert_last_run_id_check_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assurance_alert")),
        sa.UniqueConstraint(
            "system", "kind", "subject", name=op.f("uq_assurance_alert_system_kind_subject")
        ),
    )
    op.create_index(op.f("ix_assurance_alert_state"), "assurance_alert", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_assurance_alert_state"), table_name="assurance_alert")
    op.drop_table("assurance_alert")
    with op.batch_alter_table("check_run") as batch:
        batch.drop_index(batch.f("ix_check_run_as_of"))
        batch.drop_column("error")
        batch.drop_column("status")
        batch.drop_column("as_of")
