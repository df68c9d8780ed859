"""staff accounts and roles; the department of each submission

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 17:30:00
"""

import json

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret", sa.Text(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("session_generation", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_members")),
        sa.UniqueConstraint("login_id", name=op.f("uq_staff_members_login_id")),
    )
    op.create_table(
        "staff_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_members.id"], name=op.f("fk_staff_roles_staff_id_staff_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_roles")),
        sa.UniqueConstraint(
            "staff_id", "role", "department", name=op.f("uq_staff_roles_staff_id_role_department")
        ),
    )
    with op.batch_alter_table("staff_roles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_roles_staff_id"), ["staff_id"], unique=False)

    # Each submission's department, from the procedure in its snapshot.
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    submissions = sa.table(
        "submissions",
        sa.column("id", sa.Integer),
        sa.column("snapshot", sa.JSON),
        sa.column("department", sa.String),
    )
    for row in bind.execute(sa.select(submissions.c.id, submissions.c.snapshot)).all():
        snapshot = row.snapshot if isinstance(row.snapshot, dict) else json.loads(row.snapshot)
        bind.execute(
            submissions.update()
            .where(submissions.c.id == row.id)
            .values(department=snapshot["procedure"]["department"])
        )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column("department", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f("ix_submissions_department"), ["department"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_department"))
        batch_op.drop_column("department")
    with op.batch_alter_table("staff_roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_roles_staff_id"))
    op.drop_table("staff_roles")
    op.drop_table("staff_members")
