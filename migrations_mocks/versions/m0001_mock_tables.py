"""The mocks' tables: the mock card service's (virtual cards, authorization codes, access
tokens, sign transactions) and the mock payment service's (payments, webhook events, refunds),
as the production chain had them until its revision 0019.

Revision ID: m0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "m0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mock_jpki_cards",
        sa.Column("persona_id", sa.String(length=64), nullable=False),
        sa.Column("auth_failures", sa.Integer(), nullable=False),
        sa.Column("auth_locked", sa.Boolean(), nullable=False),
        sa.Column("sign_failures", sa.Integer(), nullable=False),
        sa.Column("sign_locked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("persona_id", name=op.f("pk_mock_jpki_cards")),
    )
    op.create_table(
        "mock_jpki_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=120), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("persona_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=255), nullable=True),
        sa.Column("acr", sa.String(length=64), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("code_challenge_method", sa.String(length=10), nullable=True),
        sa.Column("auth_time", sa.Integer(), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mock_jpki_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_mock_jpki_codes_code")),
    )
    op.create_table(
        "mock_jpki_sign_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("persona_id", sa.String(length=64), nullable=True),
        sa.Column("signatures", sa.JSON(), nullable=True),
        sa.Column("certificate_pem", sa.Text(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mock_jpki_sign_transactions")),
        sa.UniqueConstraint(
            "transaction_id", name=op.f("uq_mock_jpki_sign_transactions_transaction_id")
        ),
    )
    op.create_table(
        "mock_jpki_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("access_token", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("persona_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mock_jpki_tokens")),
        sa.UniqueConstraint("access_token", name=op.f("uq_mock_jpki_tokens_access_token")),
    )
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
            batch_op.f("ix_mock_pay_payments_status_expires_at"),
            ["status", "expires_at"],
            unique=False,
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
        batch_op.create_index(
            batch_op.f("ix_mock_pay_events_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mock_pay_events_status_next_attempt_at"),
            ["status", "next_attempt_at"],
            unique=False,
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
        batch_op.create_index(
            batch_op.f("ix_mock_pay_refunds_payment_id"), ["payment_id"], unique=False
        )


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
    op.drop_table("mock_jpki_tokens")
    op.drop_table("mock_jpki_sign_transactions")
    op.drop_table("mock_jpki_codes")
    op.drop_table("mock_jpki_cards")
