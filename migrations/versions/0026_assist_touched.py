"""Assisted sessions: the paths a session touched, as digests, so that each answers 404 to the
helper after the session (docs/decisions/0056-assisted-sessions-finished.md).

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assist_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("touched", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("assist_sessions", schema=None) as batch_op:
        batch_op.drop_column("touched")
