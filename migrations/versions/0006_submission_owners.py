"""submission owners

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 16:22:37.072929
"""

from alembic import op
import sqlalchemy as sa
import portal.db  # noqa: F401  (custom column types)


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_sub", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_submissions_owner_sub"), ["owner_sub"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_owner_sub"))
        batch_op.drop_column("owner_sub")
