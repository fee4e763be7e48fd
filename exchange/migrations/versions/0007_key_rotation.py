"""key rotation: a key set per node and connector; receipts name the key that signed them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 10:13:32.702463

Expand only (zero downtime): a new table and a nullable column. The single-key columns
`node.public_key` and `connector.public_key` stay, so workers of the previous release keep
running during a rolling upgrade; each principal's key is copied into the key set here.
"""

import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fingerprint(public_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


def upgrade() -> None:
    key_table = op.create_table(
        "principal_key",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("principal", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_principal_key")),
        sa.UniqueConstraint(
            "kind", "principal", "key_id", name=op.f("uq_principal_key_kind_principal_key_id")
        ),
    )
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))

    conn = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    # SQLite keeps a UUID as 32 hex digits: spell every connector id the canonical way.
    rows = [
        ("connector", str(uuid.UUID(str(r.id))), r.public_key)
        for r in conn.execute(sa.text("SELECT id, public_key FROM connector"))
    ]
    rows += [
        ("node", r.code, r.public_key)
        for r in conn.execute(sa.text("SELECT code, public_key FROM node WHERE public_key <> ''"))
    ]
    if rows:
        op.bulk_insert(
            key_table,
            [
                {
                    "kind": kind,
                    "principal": principal,
                    "key_id": _fingerprint(key),
                    "public_key": key,
                    "created_at": now,
                    "activated_at": now,
                    "retired_at": None,
                }
                for kind, principal, key in rows
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.drop_column("key_id")
    op.drop_table("principal_key")
