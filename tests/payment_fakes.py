"""An in-process payment provider for tests of the portal's payment code (the mock payment
service itself is tested over HTTP in tests/web/test_mock_pay.py and the browser tests): it keeps
payments in a dict, lets a test set what it reports, and signs webhooks like the real scheme."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import json

from portal.payments.providers import (
    SIGNATURE_HEADER,
    ProviderPayment,
    WebhookEvent,
    WebhookRefused,
    verify_signature,
)

SECRET = "fake-webhook-secret"


class FakeProvider:
    name = "mock"

    def __init__(self) -> None:
        self.payments: dict[str, ProviderPayment] = {}
        self.refunds: list[tuple[str, int, str]] = []
        self.calls = 0
        self._ids = itertools.count(1)

    def create(self, *, amount, currency, reference, description, return_url, idempotency_key):
        self.calls += 1
        for payment in self.payments.values():
            if payment.reference == reference:
                return payment
        payment_id = f"pay_{next(self._ids)}"
        payment = ProviderPayment(
            id=payment_id,
            status="created",
            amount=amount,
            currency=currency,
            reference=reference,
            checkout_url=f"https://pay.example/checkout/{payment_id}",
        )
        self.payments[payment_id] = payment
        return payment

    def get(self, payment_id: str) -> ProviderPayment:
        self.calls += 1
        return self.payments[payment_id]

    def refund(self, payment_id: str, *, amount: int, reason: str) -> None:
        self.refunds.append((payment_id, amount, reason))
        self.set(payment_id, status="refunded")

    def set(self, payment_id: str, **changes) -> ProviderPayment:
        self.payments[payment_id] = dataclasses.replace(self.payments[payment_id], **changes)
        return self.payments[payment_id]

    def parse_webhook(self, body: bytes, headers, now: int) -> WebhookEvent:
        if not verify_signature(SECRET, body, headers.get(SIGNATURE_HEADER, ""), now):
            raise WebhookRefused("signature")
        data = json.loads(body)
        payment = ProviderPayment(**data["data"]["payment"])
        return WebhookEvent(id=data["id"], type=data["type"], payment=payment)


def webhook(payment: ProviderPayment, event_id: str, now: int, secret: str = SECRET, **changes):
    """(body, headers) of a signed event reporting `payment` (with `changes`)."""
    reported = dataclasses.asdict(dataclasses.replace(payment, **changes))
    body = json.dumps(
        {"id": event_id, "type": f"payment.{reported['status']}", "data": {"payment": reported}}
    ).encode()
    digest = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {SIGNATURE_HEADER: f"t={now},v1={digest}", "Content-Type": "application/json"}
