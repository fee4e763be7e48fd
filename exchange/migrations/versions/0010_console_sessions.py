"""console sessions kept on the server; a department's parent organisation; client approval

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:25:00.000000

Expand only: one new table and nullable columns. Cookies issued before it (sealed,
self-contained) no longer open a session; their users sign in again. Existing clients are
marked approved (they were issued before approval existed).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_session",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["console_user.id"], name=op.f("fk_console_session_user_id_console_user")
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_console_session")),
    )
    op.create_index(
        op.f("ix_console_session_user_id"), "console_session", ["user_id"], unique=False
    )

    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_org", sa.String(length=128), nullable=True))
    with op.batch_alter_table("sharing_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("approved_by", sa.String(length=128), nullable=True))
    op.execute(
        "UPDATE sharing_client SET approved_at = created_at, approved_by = 'before approval'"
    )


def downgrade() -> None:
    with op.batch_alter_table("sharing_client", schema=None) as batch_op:
        batch_op.drop_column("approved_by")
        batch_op.drop_column("approved_at")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_column("parent_org")
    op.drop_index(op.f("ix_console_session_user_id"), table_name="console_session")
    op.drop_table("console_session")
