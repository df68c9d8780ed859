"""Uploaded files move into the database (table upload_blobs), where every web instance and worker
reaches them and a database backup holds them (docs/decisions/0049-uploads-in-the-database.md).

Files kept in the old upload directory are read in when the directory is there
(PORTAL_UPLOAD_DIR, default instance/uploads), so an existing installation loses nothing; the
directory itself is left for the operator to remove.

Revision ID: 0021
Revises: 0020
"""

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def _old_upload_dir() -> Path:
    instance = Path(os.environ.get("PORTAL_INSTANCE_PATH", Path(__file__).parents[2] / "instance"))
    return Path(os.environ.get("PORTAL_UPLOAD_DIR", instance / "uploads"))


def upgrade() -> None:
    blobs = op.create_table(
        "upload_blobs",
        sa.Column("storage_name", sa.String(length=80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("storage_name", name=op.f("pk_upload_blobs")),
    )
    directory = _old_upload_dir()
    if not directory.is_dir():
        return
    names = op.get_bind().execute(sa.text("SELECT storage_name FROM uploads")).scalars().all()
    for name in names:
        path = directory / name
        if path.is_file():
            data = path.read_bytes()
            op.bulk_insert(blobs, [{"storage_name": name, "size": len(data), "data": data}])


def downgrade() -> None:
    op.drop_table("upload_blobs")
