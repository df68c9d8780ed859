"""payments of fees: payments, their items, webhook events and status transitions

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=64), nullable=True),
        sa.Column("checkout_url", sa.String(length=500), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("taken_by", sa.Integer(), nullable=True),
        sa.Column("owner_sub", sa.String(length=64), nullable=True),
        sa.Column("refund_reason", sa.String(length=400), nullable=True),
        sa.Column("refunded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["taken_by"], ["staff_members.id"], name=op.f("fk_payments_taken_by_staff_members")
        ),
        sa.ForeignKeyConstraint(
            ["refunded_by"],
            ["staff_members.id"],
            name=op.f("fk_payments_refunded_by_staff_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("public_id", name=op.f("uq_payments_public_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_payments_reference")),
        sa.UniqueConstraint("provider_payment_id", name=op.f("uq_payments_provider_payment_id")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_department"), ["department"])
        batch_op.create_index(batch_op.f("ix_payments_owner_sub"), ["owner_sub"])
        batch_op.create_index(batch_op.f("ix_payments_status"), ["status"])
    op.create_table(
        "payment_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_items_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_payment_items_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_items")),
    )
    with op.batch_alter_table("payment_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_items_payment_id"), ["payment_id"])
        batch_op.create_index(batch_op.f("ix_payment_items_submission_id"), ["submission_id"])
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("received_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_events_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint(
            "provider", "event_id", name=op.f("uq_payment_events_provider_event_id")
        ),
    )
    op.create_table(
        "payment_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_transitions_payment_id_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_transitions")),
    )
    with op.batch_alter_table("payment_transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_transitions_payment_id"), ["payment_id"])


def downgrade() -> None:
    with op.batch_alter_table("payment_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_transitions_payment_id"))
    op.drop_table("payment_transitions")
    op.drop_table("payment_events")
    with op.batch_alter_table("payment_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_items_submission_id"))
        batch_op.drop_index(batch_op.f("ix_payment_items_payment_id"))
    op.drop_table("payment_items")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_status"))
        batch_op.drop_index(batch_op.f("ix_payments_owner_sub"))
        batch_op.drop_index(batch_op.f("ix_payments_department"))
    op.drop_table("payments")
