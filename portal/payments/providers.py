"""The payment-provider interface and the client of the mock payment service.

A provider creates a payment and gives the URL of its hosted payment page, tells the portal a
payment's state when asked, refunds, and signs the webhooks it sends. The portal trusts only
what it asks the provider over the server-to-server API and webhooks whose signature verifies;
never the browser's return URL. A real provider is one more class with these four methods,
registered in `PROVIDERS` (and chosen with PAYMENT_PROVIDER).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Protocol

import requests


class ProviderError(Exception):
    """The provider could not be reached or refused the request (no personal data inside)."""


@dataclass(frozen=True)
class ProviderPayment:
    id: str
    status: str
    amount: int
    currency: str
    reference: str
    method: str | None = None
    checkout_url: str | None = None
    payment_number: str | None = None
    expires_at: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    payment: ProviderPayment


class PaymentProvider(Protocol):
    name: str

    def create(
        self,
        *,
        amount: int,
        currency: str,
        reference: str,
        description: str,
        return_url: str,
        idempotency_key: str,
    ) -> ProviderPayment: ...

    def get(self, payment_id: str) -> ProviderPayment: ...

    def refund(self, payment_id: str, *, amount: int, reason: str) -> None: ...

    def parse_webhook(self, body: bytes, headers: dict[str, str], now: int) -> WebhookEvent:
        """The event if the signature verifies; WebhookRefused otherwise."""
        ...


class WebhookRefused(Exception):
    """A webhook whose signature, timestamp or body is not acceptable (answered 400)."""


def _payment(data: dict) -> ProviderPayment:
    try:
        return ProviderPayment(
            id=str(data["id"]),
            status=str(data["status"]),
            amount=data["amount"],
            currency=str(data["currency"]),
            reference=str(data["reference"]),
            method=data.get("method"),
            checkout_url=data.get("checkout_url"),
            payment_number=data.get("payment_number"),
            expires_at=data.get("expires_at"),
        )
    except (KeyError, TypeError) as error:
        raise ProviderError(f"malformed payment from the provider: {error}") from None


SIGNATURE_HEADER = "Mock-Pay-Signature"
TOLERANCE_SECONDS = 300


def verify_signature(secret: str, body: bytes, header: str, now: int) -> bool:
    """`t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, no older or newer than 5 min."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts.get("v1", ""))


class MockPayProvider:
    """The mock payment service (portal/mock_pay) over its HTTP API, exactly as a real one."""

    name = "mock"

    def __init__(self, api_url: str, api_key: str, webhook_secret: str, timeout: float = 10):
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.timeout = timeout

    def _call(self, method: str, path: str, **kwargs) -> dict:
        headers = {"Authorization": f"Bearer {self.api_key}", **kwargs.pop("headers", {})}
        try:
            response = requests.request(
                method, self.api_url + path, headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as error:
            raise ProviderError(f"payment provider unreachable: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise ProviderError(f"payment provider answered {response.status_code} to {path}")
        try:
            return response.json()
        except ValueError:
            raise ProviderError("payment provider answered something that is not JSON") from None

    def create(self, *, amount, currency, reference, description, return_url, idempotency_key):
        data = self._call(
            "POST",
            "/payments",
            json={
                "amount": amount,
                "currency": currency,
                "reference": reference,
                "description": description,
                "return_url": return_url,
            },
            headers={"Idempotency-Key": idempotency_key},
        )
        return _payment(data)

    def get(self, payment_id: str) -> ProviderPayment:
        return _payment(self._call("GET", f"/payments/{payment_id}"))

    def refund(self, payment_id: str, *, amount: int, reason: str) -> None:
        self._call(
            "POST", f"/payments/{payment_id}/refunds", json={"amount": amount, "reason": reason}
        )

    def parse_webhook(self, body: bytes, headers: dict[str, str], now: int) -> WebhookEvent:
        header = headers.get(SIGNATURE_HEADER, "")
        if not verify_signature(self.webhook_secret, body, header, now):
            raise WebhookRefused("signature")
        try:
            data = json.loads(body)
            return WebhookEvent(
                id=str(data["id"]),
                type=str(data["type"]),
                payment=_payment(data["data"]["payment"]),
            )
        except (ValueError, KeyError, TypeError, ProviderError):
            raise WebhookRefused("body") from None


def provider_from_config(config) -> PaymentProvider:
    name = config["PAYMENT_PROVIDER"]
    if name == "mock":
        return MockPayProvider(
            config["PAYMENT_API_URL"], config["PAYMENT_API_KEY"], config["PAYMENT_WEBHOOK_SECRET"]
        )
    if not name:
        raise ProviderError("no payment provider is configured (PAYMENT_PROVIDER)")
    raise ValueError(f"unknown PAYMENT_PROVIDER {name!r} (known: mock)")
