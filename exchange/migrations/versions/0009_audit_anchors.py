"""audit anchors: the key that signed each seal, parents' countersignatures, children's heads;
the caller's X-Request-ID of an entry beside the node's own

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:10:00.000000

Expand only: nullable columns on audit_seal and audit_entry (added in place, so the
append-only triggers of 0004 stay) and two append-only tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("audit_anchor", "audit_child_head")


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        # hub_audit_append_only() is 0004's: it refuses whatever it is attached to.
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION hub_audit_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION hub_audit_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {event} on {table} "
            "refused'); END"
        )


def upgrade() -> None:
    op.add_column("audit_seal", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.add_column(
        "audit_entry", sa.Column("caller_request_id", sa.String(length=128), nullable=True)
    )
    op.create_table(
        "audit_anchor",
        sa.Column("seal_no", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seal_hash", sa.String(length=64), nullable=False),
        sa.Column("anchor", sa.String(length=12), nullable=False),
        sa.Column("anchor_key_id", sa.String(length=16), nullable=False),
        sa.Column("countersignature", sa.String(length=100), nullable=False),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seal_no", name=op.f("pk_audit_anchor")),
    )
    op.create_table(
        "audit_child_head",
        sa.Column("child", sa.String(length=12), nullable=False),
        sa.Column("seal_no", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seal_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("child_key_id", sa.String(length=16), nullable=False),
        sa.Column("child_signature", sa.String(length=100), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("countersignature", sa.String(length=100), nullable=False),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("child", "seal_no", name=op.f("pk_audit_child_head")),
    )
    for table in TABLES:
        _append_only(table)


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)  # its triggers go with it
    for table, column in (("audit_entry", "caller_request_id"), ("audit_seal", "key_id")):
        if op.get_bind().dialect.name == "postgresql":
            op.drop_column(table, column)
        else:
            # SQLite drops a column in place (3.35+) when nothing refers to it; triggers stay.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
