"""Assisted sessions: the helpers the city registered and the residents' consents
(docs/decisions/0054-assisted-sessions.md).

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

TIME = portal.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assist_helpers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("organisation", sa.String(length=100), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("registered_at", TIME, nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", TIME, nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assist_helpers")),
        sa.UniqueConstraint("public_id", name=op.f("uq_assist_helpers_public_id")),
    )
    op.create_table(
        "assist_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=False),
        sa.Column("resident_sub", sa.String(length=64), nullable=False),
        sa.Column("scope_kind", sa.String(length=16), nullable=False),
        sa.Column("scope_id", sa.String(length=64), nullable=False),
        sa.Column("scope_title", sa.String(length=200), nullable=False),
        sa.Column("consented_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("ended_at", TIME, nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["helper_id"],
            ["assist_helpers.id"],
            name=op.f("fk_assist_sessions_helper_id_assist_helpers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assist_sessions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_assist_sessions_public_id")),
    )
    with op.batch_alter_table("assist_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assist_sessions_helper_id"), ["helper_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assist_sessions_resident_sub"), ["resident_sub"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assist_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assist_sessions_resident_sub"))
        batch_op.drop_index(batch_op.f("ix_assist_sessions_helper_id"))
    op.drop_table("assist_sessions")
    op.drop_table("assist_helpers")
