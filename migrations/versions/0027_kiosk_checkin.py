"""Kiosk check-in: the appointment ticket's 8-character check-in code (its hash); the
certificates residents paid for at a kiosk (docs/decisions/0057-kiosk-checkin-printing-help.md).

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

TIME = portal.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkin_code_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_appointments_checkin_code_hash"), ["checkin_code_hash"], unique=False
        )
    op.create_table(
        "kiosk_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("owner_sub", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("printed_count", sa.Integer(), nullable=False),
        sa.Column("last_printed_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_kiosk_certificates_kiosk_id_kiosks")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_kiosk_certificates_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_certificates")),
        sa.UniqueConstraint("public_id", name=op.f("uq_kiosk_certificates_public_id")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_kiosk_certificates_payment_id")),
    )
    with op.batch_alter_table("kiosk_certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosk_certificates_day"), ["day"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_kiosk_certificates_owner_sub"), ["owner_sub"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("kiosk_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_certificates_owner_sub"))
        batch_op.drop_index(batch_op.f("ix_kiosk_certificates_day"))
    op.drop_table("kiosk_certificates")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_checkin_code_hash"))
        batch_op.drop_column("checkin_code_hash")
