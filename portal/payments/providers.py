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
import re
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


# What the provider sends is stored in columns of these sizes (portal.payments.models): an id,
# a status or a URL that is not printable ASCII of that length is refused before the database,
# like a bad signature (a 400 to a webhook, a ProviderError to an API call).
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
LIMITS = {"id": 64, "status": 16, "reference": 32, "currency": 3}
OPTIONAL_LIMITS = {"method": 16, "checkout_url": 500, "payment_number": 64, "expires_at": 64}


def _token(value: object, limit: int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > limit or not _PRINTABLE.fullmatch(value):
        raise ValueError("not a printable identifier of the expected length")
    return value


def _payment(data: dict) -> ProviderPayment:
    try:
        amount = data["amount"]
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise ValueError("amount")
        optional = {
            name: None if data.get(name) is None else _token(data[name], limit)
            for name, limit in OPTIONAL_LIMITS.items()
        }
        return ProviderPayment(
            id=_token(data["id"], LIMITS["id"]),
            status=_token(data["status"], LIMITS["status"]),
            amount=amount,
            currency=_token(data["currency"], LIMITS["currency"]),
            reference=_token(data["reference"], LIMITS["reference"]),
            **optional,
        )
    except (KeyError, TypeError, ValueError) as error:
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
    # As bytes: compare_digest refuses str with non-ASCII characters (a header may hold any).
    given = parts.get("v1", "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(expected.hexdigest().encode(), given)


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
                id=_token(data["id"], LIMITS["id"]),
                type=_token(data["type"], 64),
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
