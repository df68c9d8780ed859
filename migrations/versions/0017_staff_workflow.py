"""Staff workflow (issue 12): correction requests, who made each status change and with what
comment, counter entry (書かない窓口), the inbox search column and the inbox index.

Revision ID: 0017
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa
import portal.db  # noqa: F401  (custom column types)


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "correction_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answers_before", sa.JSON(), nullable=True),
        sa.Column("answers_after", sa.JSON(), nullable=True),
        sa.Column("resident_note", sa.Text(), nullable=True),
        sa.Column("answered_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_correction_requests_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_requests")),
    )
    with op.batch_alter_table("correction_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_correction_requests_submission_id"), ["submission_id"], unique=False
        )

    with op.batch_alter_table("submission_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("applicant_search", sa.String(length=300), nullable=True))
        batch_op.create_index(
            "ix_submissions_inbox", ["department", "submitted_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_inbox")
        batch_op.drop_column("applicant_search")
        batch_op.drop_column("entered_by")

    with op.batch_alter_table("submission_events", schema=None) as batch_op:
        batch_op.drop_column("comment")
        batch_op.drop_column("actor_id")

    with op.batch_alter_table("correction_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_correction_requests_submission_id"))

    op.drop_table("correction_requests")
