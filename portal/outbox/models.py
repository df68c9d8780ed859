"""Outgoing mail, written in the transaction of the change it tells about and sent later by the
worker (`flask portal worker`).

A row is `pending` until the worker sends it (`sent`), gives up after the last attempt (`failed`),
or the change it told about is undone first (`cancelled`, e.g. the reminder of an appointment
that was cancelled). `claimed_at` and `claim_token` say which worker is sending it right now: a
worker takes a message with a guarded UPDATE and finishes it only if its token is still there
(docs/decisions/0027-outbox-and-mail.md). The rows hold the resident's address and the mail
itself, so they are personal data: they are shown on the development mail page only, never
logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"
STATUSES = (PENDING, SENT, FAILED, CANCELLED)

KIND_MAX = 64
ADDRESS_MAX = 320  # RFC 5321: 64 (local part) + 1 + 255 (domain)
SUBJECT_MAX = 255
RELATED_MAX = 120
ERROR_MAX = 200
TOKEN_LENGTH = 32


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    # The worker's question: which pending messages are due?
    __table_args__ = (Index(None, "status", "send_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "appointment_confirmation", "appointment_reminder", "appointment_cancelled", ...
    kind: Mapped[str] = mapped_column(String(KIND_MAX))
    to_address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    body: Mapped[str] = mapped_column(Text)
    # [{"filename": "yoyaku.ics", "content_type": "text/calendar; method=PUBLISH",
    #   "content": "BEGIN:VCALENDAR..."}]: text content only.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The language the message is written in (portal.i18n.LANGUAGES; decision 0074).
    lang: Mapped[str] = mapped_column(String(8), default="ja", server_default="ja")
    send_after: Mapped[dt.datetime]
    # What the message is about ("appointment:<public_id>"), to cancel its pending messages.
    related: Mapped[str] = mapped_column(String(RELATED_MAX), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    # The error's class and code only (e.g. "SMTPRecipientsRefused 550"), never its text: an SMTP
    # server's message may repeat the address.
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX), default=None)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    claim_token: Mapped[str | None] = mapped_column(String(TOKEN_LENGTH), default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]  # the last change of status, claim or schedule
