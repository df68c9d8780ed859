"""bundles of a life event: the bundles table, submissions.bundle_id and appointments.bundle_id

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22 22:14:23
"""

from alembic import op
import sqlalchemy as sa
import portal.db  # noqa: F401  (custom column types)


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("life_event", sa.String(length=64), nullable=False),
        sa.Column("owner_sub", sa.String(length=64), nullable=False),
        sa.Column("applicant_person_id", sa.String(length=64), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("procedures", sa.JSON(), nullable=False),
        sa.Column("screening", sa.JSON(), nullable=False),
        sa.Column("shared", sa.JSON(), nullable=False),
        sa.Column("shared_prefilled", sa.JSON(), nullable=False),
        sa.Column("shared_done", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundles")),
        sa.UniqueConstraint("public_id", name=op.f("uq_bundles_public_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_bundles_reference")),
    )
    with op.batch_alter_table("bundles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bundles_owner_sub"), ["owner_sub"], unique=False)

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bundle_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_appointments_bundle_id"), ["bundle_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_appointments_bundle_id_bundles"), "bundles", ["bundle_id"], ["id"]
        )

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bundle_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_submissions_bundle_id"), ["bundle_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_submissions_bundle_id_bundles"), "bundles", ["bundle_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_submissions_bundle_id_bundles"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_submissions_bundle_id"))
        batch_op.drop_column("bundle_id")

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_appointments_bundle_id_bundles"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_appointments_bundle_id"))
        batch_op.drop_column("bundle_id")

    with op.batch_alter_table("bundles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bundles_owner_sub"))

    op.drop_table("bundles")
