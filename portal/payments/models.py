"""Payments of fees, on the portal's side (the provider's side is portal/mock_pay, or a real
payment company).

A payment covers one or more fees (`PaymentItem`, usually one application each) under one
reference. Its `status` changes only through `portal.payments.states.TRANSITIONS`, applied with a
conditional UPDATE (`WHERE status IN (allowed sources)`), so that when the browser's return and
a webhook race, exactly one of them makes the change and its effects (docs/decisions/0004).
Webhook events are recorded by their provider id (unique): the same event twice has one effect.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base

CREATED = "created"
PENDING = "pending"
PAID = "paid"
FAILED = "failed"
EXPIRED = "expired"
REFUNDED = "refunded"


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # shown on the receipt
    department: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_payment_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    checkout_url: Mapped[str | None] = mapped_column(String(500), default=None)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="JPY")
    status: Mapped[str] = mapped_column(String(16), index=True, default=CREATED)
    method: Mapped[str | None] = mapped_column(String(16), default=None)
    # Set when a clerk took it at the counter (counter cashless); None when a resident pays.
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"), default=None)
    owner_sub: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    refund_reason: Mapped[str | None] = mapped_column(String(400), default=None)
    refunded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"), default=None)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    paid_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    items: Mapped[list[PaymentItem]] = relationship(order_by="PaymentItem.id")


class PaymentItem(Base):
    """One fee of a payment: an application's fee (computed from its stored answers), or a
    counter charge a clerk entered."""

    __tablename__ = "payment_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int]


class PaymentEvent(Base):
    """A provider's webhook event, kept by its id: the unique constraint is the de-duplication."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), default=None)
    outcome: Mapped[str] = mapped_column(String(32))  # applied | no_change | refused
    received_at: Mapped[dt.datetime]


class PaymentTransition(Base):
    """One status change of a payment, by whom it was noticed (return, webhook, reconcile...)."""

    __tablename__ = "payment_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime]
