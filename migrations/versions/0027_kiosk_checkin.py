"""Kiosk check-in: the appointment ticket's 8-character check-in code (its hash)
(docs/decisions/0057-kiosk-checkin-printing-help.md).

Revision ID: 0027
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "0027"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkin_code_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_appointments_checkin_code_hash"), ["checkin_code_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_checkin_code_hash"))
        batch_op.drop_column("checkin_code_hash")
