"""State of the mock payment service: payments, the webhook events it owes the merchant, and
refunds. A real provider keeps these on its side; they never mix with the portal's own payment
rows (portal/payments), which hold only the provider's payment id.

Status changes are guarded conditional UPDATEs (portal/mock_pay/service.py), and the event that
tells about a change is written in the same transaction, so a payment is paid once and its
`payment.paid` event exists exactly once. Delivery claims events like the outbox claims mail
(docs/decisions/0029-mock-payment-provider.md).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.mocks_db import MockBase

# Payment statuses (the contract's names).
CREATED = "created"
PENDING = "pending"
PAID = "paid"
FAILED = "failed"
EXPIRED = "expired"
REFUNDED = "refunded"
STATUSES = (CREATED, PENDING, PAID, FAILED, EXPIRED, REFUNDED)
OPEN = (CREATED, PENDING)  # not finished: may still be paid, fail or expire

# Payment methods, in the order the hosted page offers them.
METHODS = ("card", "qr", "konbini", "payeasy")

# Webhook delivery statuses.
EVENT_PENDING = "pending"
EVENT_DELIVERED = "delivered"
EVENT_FAILED = "failed"

ID_MAX = 40
KEY_MAX = 255
REFERENCE_MAX = 100
DESCRIPTION_MAX = 200
REASON_MAX = 200
ERROR_MAX = 200
TOKEN_LENGTH = 32


class MockPayment(MockBase):
    __tablename__ = "mock_pay_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= amount", name="refund_within_amount"
        ),
        # The delivery job's question: which open payments have run out of time?
        Index(None, "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_MAX), primary_key=True)  # "pay_<random>"
    # The merchant's Idempotency-Key and a digest of the request it came with: the same key with
    # the same body gets the same payment back, with another body a 409.
    idempotency_key: Mapped[str] = mapped_column(String(KEY_MAX), unique=True)
    request_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=CREATED)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(REFERENCE_MAX))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX))
    return_url: Mapped[str] = mapped_column(Text)
    methods: Mapped[list[str]] = mapped_column(JSON)
    # Fixed when the payment is created (the hosted page's absolute URL), so events written by
    # the CLI or the delivery job carry it too.
    checkout_url: Mapped[str] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(String(16), default=None)
    # Konbini: the 11-digit number the store terminal asks for. Pay-easy: the お客様番号
    # (16 digits), with 収納機関番号 PAYEASY_INSTITUTION and a 4-digit 確認番号.
    payment_number: Mapped[str | None] = mapped_column(String(20), unique=True, default=None)
    confirmation_number: Mapped[str | None] = mapped_column(String(8), default=None)
    # A card payment waiting for its 3-D Secure one-time password, and the wrong tries so far.
    challenge: Mapped[bool] = mapped_column(default=False)
    challenge_failures: Mapped[int] = mapped_column(default=0)
    card_last4: Mapped[str | None] = mapped_column(String(4), default=None)
    # Why it failed: "declined", "3ds_failed", "3ds_cancelled".
    failure_code: Mapped[str | None] = mapped_column(String(32), default=None)
    refunded_amount: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[dt.datetime]
    paid_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class MockPayEvent(MockBase):
    """A webhook event: its JSON body is fixed when the change happens (the payment as it was
    then), and sent as is, at least once, until the merchant answers 2xx."""

    __tablename__ = "mock_pay_events"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)  # the order events happened in
    event_id: Mapped[str] = mapped_column(String(ID_MAX), unique=True)  # "evt_<random>"
    payment_id: Mapped[str] = mapped_column(ForeignKey("mock_pay_payments.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))  # "payment.paid", ...
    body: Mapped[str] = mapped_column(Text)  # the exact JSON that is signed and sent
    status: Mapped[str] = mapped_column(String(16), default=EVENT_PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    # Marked delivered without being sent (the `drop` fault: a lost webhook).
    dropped: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX), default=None)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    claim_token: Mapped[str | None] = mapped_column(String(TOKEN_LENGTH), default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class MockPayRefund(MockBase):
    __tablename__ = "mock_pay_refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[str] = mapped_column(String(ID_MAX), primary_key=True)  # "re_<random>"
    payment_id: Mapped[str] = mapped_column(ForeignKey("mock_pay_payments.id"), index=True)
    # Optional Idempotency-Key of the refund request: a retried refund is not paid out twice.
    idempotency_key: Mapped[str | None] = mapped_column(String(KEY_MAX), unique=True, default=None)
    amount: Mapped[int]
    reason: Mapped[str] = mapped_column(String(REASON_MAX))
    status: Mapped[str] = mapped_column(String(16), default="succeeded")
    created_at: Mapped[dt.datetime]
