"""Kiosks: registered terminals, their visits and the drafts a visit started, 「続きはスマート
フォンで」 hand-overs, alerts for staff (docs/decisions/0048-kiosk-mode.md).

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401  (custom column types)

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TIME = portal.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("registered_at", TIME, nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", TIME, nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", TIME, nullable=True),
        sa.Column("last_wiped_at", TIME, nullable=True),
        sa.Column("out_of_service_since", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosks")),
        sa.UniqueConstraint("public_id", name=op.f("uq_kiosks_public_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kiosks_token_hash")),
    )
    op.create_table(
        "kiosk_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("last_seen_at", TIME, nullable=False),
        sa.Column("ended_at", TIME, nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_kiosk_visits_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_visits")),
        sa.UniqueConstraint("public_id", name=op.f("uq_kiosk_visits_public_id")),
    )
    with op.batch_alter_table("kiosk_visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosk_visits_kiosk_id"), ["kiosk_id"], unique=False)
        batch_op.create_index("ix_kiosk_visits_open", ["ended_at", "last_seen_at"], unique=False)
    op.create_table(
        "kiosk_visit_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["kiosk_visits.id"],
            name=op.f("fk_kiosk_visit_drafts_visit_id_kiosk_visits"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_visit_drafts")),
        sa.UniqueConstraint(
            "visit_id", "submission_id", name=op.f("uq_kiosk_visit_drafts_visit_id_submission_id")
        ),
    )
    with op.batch_alter_table("kiosk_visit_drafts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kiosk_visit_drafts_visit_id"), ["visit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_kiosk_visit_drafts_submission_id"), ["submission_id"], unique=False
        )
    op.create_table(
        "kiosk_handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("owner_sub", sa.String(length=64), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("used_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_handoffs")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_kiosk_handoffs_code_hash")),
    )
    with op.batch_alter_table("kiosk_handoffs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kiosk_handoffs_submission_id"), ["submission_id"], unique=False
        )
    op.create_table(
        "kiosk_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("resolved_at", TIME, nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_kiosk_alerts_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_alerts")),
    )
    with op.batch_alter_table("kiosk_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosk_alerts_kiosk_id"), ["kiosk_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kiosk_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_alerts_kiosk_id"))
    op.drop_table("kiosk_alerts")
    with op.batch_alter_table("kiosk_handoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_handoffs_submission_id"))
    op.drop_table("kiosk_handoffs")
    with op.batch_alter_table("kiosk_visit_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_visit_drafts_submission_id"))
        batch_op.drop_index(batch_op.f("ix_kiosk_visit_drafts_visit_id"))
    op.drop_table("kiosk_visit_drafts")
    with op.batch_alter_table("kiosk_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_kiosk_visits_open")
        batch_op.drop_index(batch_op.f("ix_kiosk_visits_kiosk_id"))
    op.drop_table("kiosk_visits")
    op.drop_table("kiosks")
