"""The audit log: one append-only row per look at or change to a resident's data, per export,
per reveal of a masked field and per staff sign-in event, each chained to the one before by hash.

Rows hold ids only ("submission:ISM-...", "staff:42"), never the data looked at, so purging a
submission later leaves the chain intact. `audit_head` is a single row naming the last entry: the
service locks it to append, which serialises writers so that two requests never chain to the same
predecessor, and `verify` compares it with the log's end to notice entries deleted from the end.
The database refuses UPDATE and DELETE on `audit_log` (triggers made by migration 0008); see
docs/decisions/0022-audit-log.md.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base

ACTOR_MAX = 80
ACTION_MAX = 32
TARGET_MAX = 120
DEPARTMENT_MAX = 64
REASON_MAX = 400
HASH_LENGTH = 64  # SHA-256, hex


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    # "staff:<id>", "resident:<pairwise sub>", "system" or "anonymous".
    actor: Mapped[str] = mapped_column(String(ACTOR_MAX))
    action: Mapped[str] = mapped_column(String(ACTION_MAX))
    # Indexed: the question asked of this table is "who looked at this submission?".
    target: Mapped[str] = mapped_column(String(TARGET_MAX), index=True)
    # The department the staff member acted for ("kosodate"); None for residents and the system.
    department: Mapped[str | None] = mapped_column(String(DEPARTMENT_MAX), default=None)
    # Why, as typed by the staff member (required to reveal a masked field).
    reason: Mapped[str | None] = mapped_column(String(REASON_MAX), default=None)
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)


class AuditHead(Base):
    """The single row (id 1) naming the last entry of the chain; created by the migration."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_id: Mapped[int | None] = mapped_column(default=None)  # None until the first entry
    last_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
