"""uploads and resume codes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 15:12:50.592480
"""

from alembic import op
import sqlalchemy as sa
import portal.db  # noqa: F401  (custom column types)


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("field_name", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_name", sa.String(length=80), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_uploads_submission_id_submissions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        sa.UniqueConstraint("token", name=op.f("uq_uploads_token")),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_uploads_submission_id"), ["submission_id"], unique=False
        )

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resume_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("resume_expires_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_submissions_resume_code_hash"), ["resume_code_hash"]
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_submissions_resume_code_hash"), type_="unique")
        batch_op.drop_column("resume_expires_at")
        batch_op.drop_column("resume_code_hash")

    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uploads_submission_id"))

    op.drop_table("uploads")
