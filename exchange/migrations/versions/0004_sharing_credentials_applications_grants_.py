"""sharing: credentials, applications, grants, audit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 07:55:03.749593
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The audit log is append-only. The code has no UPDATE or DELETE path; these triggers make the
# database refuse one too, so only someone who can drop a trigger can alter the log, and the
# signed hash chain (exchange/platforms/sharing/audit/log.py) shows what they did.
AUDIT_TABLES = ("audit_entry", "audit_seal")
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION hub_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$
"""


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in AUDIT_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION hub_audit_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION hub_audit_append_only()"
            )
        return
    for table in AUDIT_TABLES:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {event} on {table} "
                "refused'); END"
            )


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in AUDIT_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS hub_audit_append_only()")
        return
    for table in AUDIT_TABLES:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=True),
        sa.Column("grant_id", sa.Uuid(), nullable=True),
        sa.Column("resource", sa.String(length=64), nullable=True),
        sa.Column("keys", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    op.create_table(
        "audit_seal",
        sa.Column("seal_no", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "ranges", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("high_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "pending", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("lost", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("seal_no", name=op.f("pk_audit_seal")),
    )
    op.create_table(
        "console_user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("department_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_console_user_department_id_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_user")),
        sa.UniqueConstraint("username", name=op.f("uq_console_user_username")),
    )
    op.create_table(
        "sharing_client",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("department_id", sa.Uuid(), nullable=True),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_token_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_sharing_client_department_id_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_client")),
    )
    op.create_table(
        "sharing_application",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column(
            "fields", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "plain_fields", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column(
            "attachment", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=128), nullable=False),
        sa.Column("review_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["department.id"],
            name=op.f("fk_sharing_application_applicant_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["department.id"],
            name=op.f("fk_sharing_application_provider_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["resource_code"],
            ["resource.code"],
            name=op.f("fk_sharing_application_resource_code_resource"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_application")),
    )
    with op.batch_alter_table("sharing_application", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sharing_application_applicant_status", ["applicant_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_sharing_application_provider_status", ["provider_id", "status"], unique=False
        )

    op.create_table(
        "sharing_grant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("consumer_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column(
            "fields", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "plain_fields", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("conditional", sa.Boolean(), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("rows_per_day", sa.BigInteger(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=128), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["sharing_application.id"],
            name=op.f("fk_sharing_grant_application_id_sharing_application"),
        ),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["department.id"], name=op.f("fk_sharing_grant_consumer_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["department.id"], name=op.f("fk_sharing_grant_provider_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["resource_code"],
            ["resource.code"],
            name=op.f("fk_sharing_grant_resource_code_resource"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_grant")),
        sa.UniqueConstraint("application_id", name=op.f("uq_sharing_grant_application_id")),
    )
    with op.batch_alter_table("sharing_grant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sharing_grant_consumer_resource", ["consumer_id", "resource_code"], unique=False
        )

    op.create_table(
        "sharing_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("grant_id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["sharing_grant.id"],
            name=op.f("fk_sharing_subscription_grant_id_sharing_grant"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_sharing_subscription_subscription_id_subscription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_subscription")),
        sa.UniqueConstraint(
            "subscription_id", name=op.f("uq_sharing_subscription_subscription_id")
        ),
    )
    with op.batch_alter_table("sharing_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_subscription_grant_id"), ["grant_id"], unique=False
        )

    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    with op.batch_alter_table("sharing_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_subscription_grant_id"))

    op.drop_table("sharing_subscription")
    with op.batch_alter_table("sharing_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_sharing_grant_consumer_resource")

    op.drop_table("sharing_grant")
    with op.batch_alter_table("sharing_application", schema=None) as batch_op:
        batch_op.drop_index("ix_sharing_application_provider_status")
        batch_op.drop_index("ix_sharing_application_applicant_status")

    op.drop_table("sharing_application")
    op.drop_table("sharing_client")
    op.drop_table("console_user")
    op.drop_table("audit_seal")
    op.drop_table("audit_entry")
