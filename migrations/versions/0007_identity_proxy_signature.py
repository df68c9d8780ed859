"""applicant and subject, acting for someone, prefilled answers, signatures

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 17:00:00
"""

from alembic import op
import sqlalchemy as sa
import portal.db  # noqa: F401  (custom column types)


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applicant_person_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("subject_person_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("acting_for", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("prefilled", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(sa.Column("signature", sa.JSON(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_submissions_subject_person_id"), ["subject_person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_subject_person_id"))
        batch_op.drop_column("signature")
        batch_op.drop_column("prefilled")
        batch_op.drop_column("acting_for")
        batch_op.drop_column("subject_person_id")
        batch_op.drop_column("applicant_person_id")
