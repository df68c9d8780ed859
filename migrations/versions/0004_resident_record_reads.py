"""resident record reads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 15:51:40.643227
"""

from alembic import op
import sqlalchemy as sa
import portal.db  # noqa: F401  (custom column types)


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reader", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("record", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_reads")),
    )
    with op.batch_alter_table("record_reads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_reads_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("record_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_reads_person_id"))

    op.drop_table("record_reads")
