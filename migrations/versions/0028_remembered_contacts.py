"""Remembered contacts: a resident's phone and e-mail, kept with their consent to fill the next
application (docs/decisions/0058-sixty-seconds-on-a-phone.md).

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

TIME = portal.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "remembered_contacts",
        sa.Column("owner_sub", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("owner_sub", name=op.f("pk_remembered_contacts")),
    )


def downgrade() -> None:
    op.drop_table("remembered_contacts")
