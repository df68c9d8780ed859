"""The jobs table: typed jobs enqueued by the portal, and the occurrences of periodic duties
(one row per duty and period: `key` is unique, so several workers planning the same period
insert it once). Rows are worked through the one lease mechanism (portal/jobs/lease.py).

Payloads hold ids and small values, never personal data: a job that needs a resident's data
reads it from its own table when it runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base

PENDING = "pending"
DONE = "done"
FAILED = "failed"
STATUSES = (PENDING, DONE, FAILED)

KIND_MAX = 64
KEY_MAX = 120
ERROR_MAX = 200
RESULT_MAX = 200
TOKEN_LENGTH = 32
REQUEST_ID_MAX = 64
WORKER_NAME_MAX = 120


class Job(Base):
    __tablename__ = "jobs"
    # The worker's question: which pending jobs are due? And the pruning's: which finished ones
    # are old?
    __table_args__ = (Index(None, "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_MAX))  # "expired-sessions", ...
    # One job per key: a duty's period ("expired-sessions@2026-12-06T03:15:00+00:00").
    key: Mapped[str | None] = mapped_column(String(KEY_MAX), unique=True, default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int]
    run_after: Mapped[dt.datetime]
    # The error's class only (never its text: it may repeat personal data).
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX), default=None)
    # The handler's one-line summary ("sessions: 3 expired deleted").
    result: Mapped[str | None] = mapped_column(String(RESULT_MAX), default=None)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    claim_token: Mapped[str | None] = mapped_column(String(TOKEN_LENGTH), default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # The id of the request that enqueued it, on the worker's log lines about it (observability).
    request_id: Mapped[str | None] = mapped_column(String(REQUEST_ID_MAX), default=None)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class WorkerHeartbeat(Base):
    """A worker saying it is alive: one row per worker process, touched every round; the
    readiness endpoint lists the workers seen lately."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(WORKER_NAME_MAX), primary_key=True)  # host:pid
    interval_seconds: Mapped[float]
    started_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
