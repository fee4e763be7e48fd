"""shaped deliveries: a bulk delivery may carry its own payload, cut to the consumer's grant

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 22:40:00.000000

Expand only: three nullable columns. A delivery without them sends its batch's payload as
published, which is what every existing delivery does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("payload_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("payload_size", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("payload_size")
        batch_op.drop_column("payload_sha256")
        batch_op.drop_column("payload_key")
