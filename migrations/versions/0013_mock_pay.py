"""mock payment service: payments, webhook events, refunds

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 20:40:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mock_pay_payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("return_url", sa.Text(), nullable=False),
        sa.Column("methods", sa.JSON(), nullable=False),
        sa.Column("checkout_url", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("payment_number", sa.String(length=20), nullable=True),
        sa.Column("confirmation_number", sa.String(length=8), nullable=True),
        sa.Column("challenge", sa.Boolean(), nullable=False),
        sa.Column("challenge_failures", sa.Integer(), nullable=False),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("failure_code", sa.String(length=32), nullable=True),
        sa.Column("refunded_amount", sa.Integer(), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_mock_pay_payments_amount_positive")),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= amount",
            name=op.f("ck_mock_pay_payments_refund_within_amount"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mock_pay_payments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_mock_pay_payments_idempotency_key")),
        sa.UniqueConstraint("payment_number", name=op.f("uq_mock_pay_payments_payment_number")),
    )
    with op.batch_alter_table("mock_pay_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mock_pay_payments_status_expires_at"), ["status", "expires_at"]
        )
    op.create_table(
        "mock_pay_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dropped", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("delivered_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["mock_pay_payments.id"],
            name=op.f("fk_mock_pay_events_payment_id_mock_pay_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mock_pay_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_mock_pay_events_event_id")),
    )
    with op.batch_alter_table("mock_pay_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mock_pay_events_payment_id"), ["payment_id"])
        batch_op.create_index(
            batch_op.f("ix_mock_pay_events_status_next_attempt_at"), ["status", "next_attempt_at"]
        )
    op.create_table(
        "mock_pay_refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_mock_pay_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["mock_pay_payments.id"],
            name=op.f("fk_mock_pay_refunds_payment_id_mock_pay_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mock_pay_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_mock_pay_refunds_idempotency_key")),
    )
    with op.batch_alter_table("mock_pay_refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mock_pay_refunds_payment_id"), ["payment_id"])


def downgrade() -> None:
    with op.batch_alter_table("mock_pay_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mock_pay_refunds_payment_id"))
    op.drop_table("mock_pay_refunds")
    with op.batch_alter_table("mock_pay_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mock_pay_events_status_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_mock_pay_events_payment_id"))
    op.drop_table("mock_pay_events")
    with op.batch_alter_table("mock_pay_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mock_pay_payments_status_expires_at"))
    op.drop_table("mock_pay_payments")
