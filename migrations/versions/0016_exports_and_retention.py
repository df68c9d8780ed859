"""exports and retention: staff API tokens (the JSON export) and submissions.purged_at

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22 22:51:34
"""

from alembic import op
import sqlalchemy as sa
import portal.db  # noqa: F401  (custom column types)


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_staff_api_tokens_staff_id_staff_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_api_tokens_token_hash")),
    )
    with op.batch_alter_table("staff_api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_api_tokens_staff_id"), ["staff_id"], unique=False
        )

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purged_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("purged_at")

    with op.batch_alter_table("staff_api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_api_tokens_staff_id"))

    op.drop_table("staff_api_tokens")
