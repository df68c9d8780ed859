"""Assisted sessions: the paths a session touched, as digests, so that each answers 404 to the
helper after the session; the スマホ教室's practice classes
(docs/decisions/0056-assisted-sessions-finished.md).

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

TIME = portal.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("assist_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("touched", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    op.create_table(
        "practice_classes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("ended_at", TIME, nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["helper_id"],
            ["assist_helpers.id"],
            name=op.f("fk_practice_classes_helper_id_assist_helpers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_classes")),
        sa.UniqueConstraint("public_id", name=op.f("uq_practice_classes_public_id")),
    )
    with op.batch_alter_table("practice_classes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_practice_classes_helper_id"), ["helper_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("practice_classes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practice_classes_helper_id"))
    op.drop_table("practice_classes")
    with op.batch_alter_table("assist_sessions", schema=None) as batch_op:
        batch_op.drop_column("touched")
