"""appointment booking: holders (per-resident limit), queue numbers, staff closures

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 20:10:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_key", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_appointments_holder_key"), ["holder_key"])
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.alter_column("sequence", server_default=None)
    op.create_table(
        "appointment_holders",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_appointment_holders")),
    )
    op.create_table(
        "counter_queues",
        sa.Column("counter_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("counter_id", "day", name=op.f("pk_counter_queues")),
    )
    op.create_table(
        "appointment_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.String(length=64), nullable=True),
        sa.Column("starts_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["staff_members.id"],
            name=op.f("fk_appointment_closures_created_by_staff_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_closures")),
    )
    with op.batch_alter_table("appointment_closures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_closures_counter_id"), ["counter_id"])


def downgrade() -> None:
    with op.batch_alter_table("appointment_closures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_closures_counter_id"))
    op.drop_table("appointment_closures")
    op.drop_table("counter_queues")
    op.drop_table("appointment_holders")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_holder_key"))
        batch_op.drop_column("sequence")
        batch_op.drop_column("holder_key")
