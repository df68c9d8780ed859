"""mock card service

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 15:38:07.893935
"""

from alembic import op
import sqlalchemy as sa
import portal.db  # noqa: F401  (custom column types)


revision = "0003"
down_revision = "0002"
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


def downgrade() -> None:
    op.drop_table("mock_jpki_tokens")
    op.drop_table("mock_jpki_sign_transactions")
    op.drop_table("mock_jpki_codes")
    op.drop_table("mock_jpki_cards")
