"""The staff inbox's index covers the counts per status and the name search on PostgreSQL
(INCLUDE status, procedure_id, applicant_search); SQLite keeps the plain index.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = ["department", "submitted_at", "id"]


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_inbox")
        batch_op.create_index(
            "ix_submissions_inbox",
            COLUMNS,
            unique=False,
            postgresql_include=["status", "procedure_id", "applicant_search"],
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_inbox")
        batch_op.create_index("ix_submissions_inbox", COLUMNS, unique=False)
