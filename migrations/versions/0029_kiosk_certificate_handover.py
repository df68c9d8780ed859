"""Kiosk certificates collected at the counter: when and by whom one was handed over
(docs/decisions/0057-kiosk-checkin-printing-help.md).

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

TIME = portal.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("kiosk_certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handed_over_at", TIME, nullable=True))
        batch_op.add_column(sa.Column("handed_over_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kiosk_certificates", schema=None) as batch_op:
        batch_op.drop_column("handed_over_by")
        batch_op.drop_column("handed_over_at")
