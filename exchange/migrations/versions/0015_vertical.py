"""sharing across levels: relayed calls' nonces (replay refusal) and each hop's four timestamps

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-06 21:00:00.000000

Expand only: four new tables (nonces, hops, the federated catalogue's entries learned from
neighbours, signed copies of grants held at other levels' nodes).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sharing_relay_nonce",
        sa.Column("nonce", sa.String(length=36), nullable=False),
        sa.Column("caller", sa.String(length=12), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_sharing_relay_nonce")),
    )
    op.create_index(
        op.f("ix_sharing_relay_nonce_seen_at"), "sharing_relay_nonce", ["seen_at"], unique=False
    )
    op.create_table(
        "sharing_relay_hop",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("upstream", sa.String(length=128), nullable=False),
        sa.Column("downstream", sa.String(length=12), nullable=True),
        sa.Column("provider_node", sa.String(length=12), nullable=False),
        sa.Column("resource", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("request_in", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_out", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_in", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_out", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_relay_hop")),
    )
    op.create_index(
        "ix_sharing_relay_hop_request_id", "sharing_relay_hop", ["request_id"], unique=False
    )

    op.create_table(
        "sharing_federated_entry",
        sa.Column("provider_node", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("provider_department", sa.String(length=32), nullable=False),
        sa.Column("provider_name", sa.String(length=128), nullable=False),
        sa.Column("share_class", sa.String(length=16), nullable=False),
        sa.Column("open_class", sa.String(length=16), nullable=False),
        sa.Column(
            "share_levels", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider_node", "code", name=op.f("pk_sharing_federated_entry")),
    )
    op.create_index(
        op.f("ix_sharing_federated_entry_via"), "sharing_federated_entry", ["via"], unique=False
    )
    op.create_table(
        "sharing_remote_grant",
        sa.Column("provider_node", sa.String(length=12), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("resource", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("grant_id", sa.Uuid(), nullable=True),
        sa.Column("grant_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refused", sa.String(length=40), nullable=True),
        sa.Column(
            "document", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "provider_node", "application_id", name=op.f("pk_sharing_remote_grant")
        ),
    )


def downgrade() -> None:
    op.drop_table("sharing_remote_grant")
    op.drop_index(op.f("ix_sharing_federated_entry_via"), table_name="sharing_federated_entry")
    op.drop_table("sharing_federated_entry")
    op.drop_index("ix_sharing_relay_hop_request_id", table_name="sharing_relay_hop")
    op.drop_table("sharing_relay_hop")
    op.drop_index(op.f("ix_sharing_relay_nonce_seen_at"), table_name="sharing_relay_nonce")
    op.drop_table("sharing_relay_nonce")
