"""exchange operations: a batch remembers how its sender's file numbers rows; signed receipts
cover their detail (layout hub-receipt/v2)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 21:00:00.000000

Expand only: two columns with server defaults. Batches received before it were numbered by
their position from 1, which is what the default says; receipts signed before it have the v1
layout (without their detail), which is what the default says.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batch") as batch:
        batch.add_column(sa.Column("first_row", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("receipt") as receipt:
        receipt.add_column(
            sa.Column(
                "layout", sa.String(length=16), server_default="hub-receipt/v1", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("receipt") as receipt:
        receipt.drop_column("layout")
    with op.batch_alter_table("batch") as batch:
        batch.drop_column("first_row")
