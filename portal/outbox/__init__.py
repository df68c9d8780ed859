"""The outbox: mail written in the same transaction as the change it tells about, delivered
later by `flask portal worker` through the backend MAIL_BACKEND names (SMTP in production, kept
in the table for the development mail page /dev/mail otherwise). See
docs/decisions/0027-outbox-and-mail.md.
"""

from portal.outbox.models import CANCELLED, FAILED, PENDING, SENT, OutboxMessage
from portal.outbox.service import (
    Attachment,
    Backend,
    DeliveryError,
    Outgoing,
    cancel_pending,
    deliver_due,
    enqueue,
)

__all__ = [
    "CANCELLED",
    "FAILED",
    "PENDING",
    "SENT",
    "Attachment",
    "Backend",
    "DeliveryError",
    "OutboxMessage",
    "Outgoing",
    "cancel_pending",
    "deliver_due",
    "enqueue",
]
