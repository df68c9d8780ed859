"""What the mock payment service does: create payments (idempotently), take them through the
hosted pages' methods, pay konbini and Pay-easy numbers at the "store terminal", refund, and
expire what was not paid in time.

Every status change is a conditional UPDATE on the status it expects (and, for paying, an
expiry still in the future), so two racing confirmations cannot both win: a payment is paid
once (docs/decisions/0004-concurrency.md). The event that tells the merchant about the change is
written in the same transaction (`payment.<status>`), for portal/mock_pay/webhooks.py to deliver.
Functions take the session and `now`, flush and never commit: the caller commits once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import string
import unicodedata
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.mock_pay.models import (
    CREATED,
    DESCRIPTION_MAX,
    EVENT_PENDING,
    EXPIRED,
    KEY_MAX,
    METHODS,
    OPEN,
    PAID,
    REASON_MAX,
    REFERENCE_MAX,
    REFUNDED,
    MockPayEvent,
    MockPayment,
    MockPayRefund,
)

# Card and QR payments must be paid within 90 minutes of creation; konbini and Pay-easy numbers
# are valid for 3 days after they are issued.
CHECKOUT_LIFETIME = dt.timedelta(minutes=90)
NUMBER_LIFETIME = dt.timedelta(days=3)
MAX_AMOUNT = 9_999_999
EXPIRE_BATCH = 100  # payments one run of the delivery job expires at most
CURRENCY = "JPY"
CHALLENGE_PASSWORD = "1234"  # the 3-D Secure one-time password of the demo  # noqa: S105
CHALLENGE_TRIES = 3
PAYEASY_INSTITUTION = "58091"  # 収納機関番号 of the mock service (fictional)

# The test cards, as payment providers document them.
CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_CHALLENGE = "4000000000003220"
TEST_CARDS = {CARD_SUCCEEDS: "succeeds", CARD_DECLINED: "declined", CARD_CHALLENGE: "challenge"}

_ALPHANUMERIC = string.ascii_letters + string.digits
_CREATE_FIELDS = {"amount", "currency", "reference", "description", "return_url", "methods"}


class MockPayError(Exception):
    """A request the service refuses: `status` (400, 404, 409) and a machine-readable `code`."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidRequest(MockPayError):
    status = 400


class NotFound(MockPayError):
    status = 404


class Conflict(MockPayError):
    status = 409


def new_id(prefix: str) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(24))


def digits(length: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(length))


def normalize_number(text: str) -> str:
    """Digits as typed by people: full-width digits, spaces and hyphens allowed."""
    text = unicodedata.normalize("NFKC", text or "")
    return "".join(ch for ch in text if ch not in " -\u2010\u2011\u2012\u2013\u2014\u2212\u30fc")


# --- The JSON shape ------------------------------------------------------------------------


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat(timespec="seconds")


def payment_json(payment: MockPayment) -> dict:
    """The contract's {payment} object."""
    return {
        "id": payment.id,
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "reference": payment.reference,
        "description": payment.description,
        "method": payment.method,
        "checkout_url": payment.checkout_url,
        "expires_at": _iso(payment.expires_at),
        "paid_at": _iso(payment.paid_at),
        "payment_number": payment.payment_number,
        "refunded_amount": payment.refunded_amount,
    }


def refund_json(refund: MockPayRefund) -> dict:
    return {
        "id": refund.id,
        "payment_id": refund.payment_id,
        "amount": refund.amount,
        "status": refund.status,
    }


# --- Creating ------------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(body: Mapping, name: str, maximum: int, *, required: bool = True) -> str:
    value = body.get(name)
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > maximum:
        raise InvalidRequest(
            "invalid_request", f"{name}: a string of 1 to {maximum} characters is required"
        )
    return value


def validate_create(body) -> dict:
    """The create request checked and completed (methods default to all); InvalidRequest."""
    if not isinstance(body, dict):
        raise InvalidRequest("invalid_request", "the body must be a JSON object")
    unknown = sorted(set(body) - _CREATE_FIELDS)
    if unknown:
        raise InvalidRequest("invalid_request", f"unknown field(s): {', '.join(unknown)}")
    amount = body.get("amount")
    if not _is_int(amount) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidRequest(
            "invalid_request", f"amount: an integer number of yen, 1 to {MAX_AMOUNT}"
        )
    if body.get("currency") != CURRENCY:
        raise InvalidRequest("invalid_request", "currency: only JPY is supported")
    reference = _text(body, "reference", REFERENCE_MAX)
    description = _text(body, "description", DESCRIPTION_MAX)
    return_url = body.get("return_url")
    parts = urlsplit(return_url) if isinstance(return_url, str) else None
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.netloc
        or parts.fragment
        or len(return_url) > 2000
        or any(ch.isspace() for ch in return_url)
    ):
        raise InvalidRequest(
            "invalid_request", "return_url: an absolute http(s) URL without a fragment"
        )
    methods = body.get("methods", list(METHODS))
    if (
        not isinstance(methods, list)
        or not methods
        or not all(isinstance(m, str) and m in METHODS for m in methods)
        or len(set(methods)) != len(methods)
    ):
        raise InvalidRequest(
            "invalid_request", f"methods: a non-empty list of distinct {', '.join(METHODS)}"
        )
    return {
        "amount": amount,
        "currency": CURRENCY,
        "reference": reference,
        "description": description,
        "return_url": return_url,
        # The page offers them in its own order, whatever order they came in.
        "methods": [m for m in METHODS if m in methods],
    }


def _request_digest(request: Mapping) -> str:
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_payment(
    session: Session,
    *,
    idempotency_key: str | None,
    body,
    checkout_url: Callable[[str], str],
    now: dt.datetime,
) -> tuple[MockPayment, bool]:
    """Create a payment, or return the one this Idempotency-Key created before (same body).

    Returns (payment, created). Raises InvalidRequest for a missing key or a bad body, Conflict
    when the key was used with another body. `checkout_url(payment_id)` gives the hosted page's
    absolute URL. Two racing requests with one key create one payment (unique key).
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > KEY_MAX or not key.isascii() or not key.isprintable():
        raise InvalidRequest(
            "idempotency_key_required",
            f"the Idempotency-Key header is required (1 to {KEY_MAX} printable ASCII characters)",
        )
    request = validate_create(body)
    digest = _request_digest(request)
    existing = _by_idempotency_key(session, key)
    if existing is not None:
        return _replayed(existing, digest), False
    payment_id = new_id("pay")
    payment = MockPayment(
        id=payment_id,
        idempotency_key=key,
        request_digest=digest,
        status=CREATED,
        amount=request["amount"],
        currency=request["currency"],
        reference=request["reference"],
        description=request["description"],
        return_url=request["return_url"],
        methods=request["methods"],
        checkout_url=checkout_url(payment_id),
        refunded_amount=0,
        expires_at=now + CHECKOUT_LIFETIME,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(payment)
    except IntegrityError:
        # Another request with this key won the race (PostgreSQL waited for its commit).
        existing = _by_idempotency_key(session, key)
        if existing is None:
            raise
        return _replayed(existing, digest), False
    return payment, True


def _by_idempotency_key(session: Session, key: str) -> MockPayment | None:
    return session.scalar(select(MockPayment).where(MockPayment.idempotency_key == key))


def _replayed(payment: MockPayment, digest: str) -> MockPayment:
    if payment.request_digest != digest:
        raise Conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request body",
        )
    return payment


# --- Reading and expiring ------------------------------------------------------------------


def get_payment(session: Session, payment_id: str, *, now: dt.datetime) -> MockPayment:
    """The payment, expired first if its time has run out (the caller commits); NotFound."""
    payment = session.get(MockPayment, payment_id) if payment_id else None
    if payment is None:
        raise NotFound("payment_not_found", "no such payment")
    return expire_if_due(session, payment, now=now)


def expire_if_due(session: Session, payment: MockPayment, *, now: dt.datetime) -> MockPayment:
    if payment.status in OPEN and payment.expires_at <= now:
        expired = transition(
            session,
            payment.id,
            expected=OPEN,
            now=now,
            values={"status": EXPIRED, "challenge": False},
            unexpired=False,
            still_due=True,
        )
        if expired is None:  # someone else changed it first
            session.refresh(payment)
        return expired or payment
    return payment


def expire_due(session: Session, *, now: dt.datetime, limit: int = EXPIRE_BATCH) -> int:
    """Expire open payments whose time has run out (each with its `payment.expired` event)."""
    ids = session.scalars(
        select(MockPayment.id)
        .where(MockPayment.status.in_(OPEN), MockPayment.expires_at <= now)
        .order_by(MockPayment.expires_at)
        .limit(limit)
    ).all()
    count = 0
    for payment_id in ids:
        expired = transition(
            session,
            payment_id,
            expected=OPEN,
            now=now,
            values={"status": EXPIRED, "challenge": False},
            unexpired=False,
            still_due=True,
        )
        count += expired is not None
    return count


# --- Transitions ---------------------------------------------------------------------------


def transition(
    session: Session,
    payment_id: str,
    *,
    expected: tuple[str, ...],
    now: dt.datetime,
    values: dict,
    unexpired: bool = True,
    still_due: bool = False,
    where: tuple = (),
) -> MockPayment | None:
    """Apply `values` if the payment is still in an `expected` status (and not expired, or, for
    expiring, still due); the winner's payment, or None. A status change writes its event."""
    guard = [MockPayment.id == payment_id, MockPayment.status.in_(expected), *where]
    if unexpired:
        guard.append(MockPayment.expires_at > now)
    if still_due:
        guard.append(MockPayment.expires_at <= now)
    result = session.execute(
        update(MockPayment)
        .where(*guard)
        .values(**values, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    payment = session.get(MockPayment, payment_id, populate_existing=True)
    if "status" in values:
        record_event(session, payment, now=now)
    return payment


def record_event(
    session: Session, payment: MockPayment, *, now: dt.datetime, event_type: str | None = None
) -> MockPayEvent:
    """The event (`payment.<status>` unless `event_type` says otherwise) for the payment as it
    is now, due at once."""
    event_id = new_id("evt")
    created = int(now.timestamp())
    body = {
        "id": event_id,
        "type": event_type or f"payment.{payment.status}",
        "created": created,
        "data": {"payment": payment_json(payment)},
    }
    event = MockPayEvent(
        event_id=event_id,
        payment_id=payment.id,
        type=body["type"],
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=EVENT_PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(event)
    session.flush()
    return event


def refund(
    session: Session,
    payment_id: str,
    body,
    *,
    idempotency_key: str | None = None,
    now: dt.datetime,
) -> tuple[MockPayRefund, bool]:
    """Refund part or all of a paid payment; returns (refund, created). The payment becomes
    "refunded" when fully refunded; every refund emits `payment.refunded`. With an
    Idempotency-Key, a repeated request returns the first refund. InvalidRequest for a bad body
    or an amount above what is left; Conflict unless the payment is paid (the caller rolls
    back)."""
    if not isinstance(body, dict):
        raise InvalidRequest("invalid_request", "the body must be a JSON object")
    amount = body.get("amount")
    if not _is_int(amount) or amount <= 0:
        raise InvalidRequest("invalid_request", "amount: a positive integer number of yen")
    reason = _text(body, "reason", REASON_MAX)
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > KEY_MAX:
        raise InvalidRequest("invalid_request", f"Idempotency-Key: at most {KEY_MAX} characters")
    if key is not None:
        earlier = _refund_by_key(session, key)
        if earlier is not None:
            return _replayed_refund(earlier, payment_id, amount, reason), False
    payment = get_payment(session, payment_id, now=now)
    if payment.status != PAID:
        raise Conflict("payment_not_refundable", f"the payment is {payment.status}, not paid")
    if amount > payment.amount - payment.refunded_amount:
        raise InvalidRequest(
            "amount_too_large",
            f"at most {payment.amount - payment.refunded_amount} yen is left to refund",
        )
    refund_row = MockPayRefund(
        id=new_id("re"),
        payment_id=payment_id,
        idempotency_key=key,
        amount=amount,
        reason=reason,
        status="succeeded",
        created_at=now,
    )
    # The refund row first: a racing request with the same key waits on the unique key here
    # (PostgreSQL) and then finds the first refund, instead of refunding again.
    try:
        with session.begin_nested():
            session.add(refund_row)
    except IntegrityError:
        earlier = _refund_by_key(session, key) if key else None
        if earlier is None:
            raise
        return _replayed_refund(earlier, payment_id, amount, reason), False
    result = session.execute(
        update(MockPayment)
        .where(
            MockPayment.id == payment_id,
            MockPayment.status == PAID,
            MockPayment.refunded_amount + amount <= MockPayment.amount,
        )
        .values(refunded_amount=MockPayment.refunded_amount + amount, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # another refund took what was left meanwhile
        raise Conflict("payment_not_refundable", "the payment changed; read it and try again")
    session.execute(
        update(MockPayment)
        .where(MockPayment.id == payment_id, MockPayment.refunded_amount == MockPayment.amount)
        .values(status=REFUNDED)
        .execution_options(synchronize_session=False)
    )
    payment = session.get(MockPayment, payment_id, populate_existing=True)
    # A partial refund leaves the payment paid; its event is payment.refunded all the same.
    record_event(session, payment, now=now, event_type="payment.refunded")
    return refund_row, True


def _refund_by_key(session: Session, key: str) -> MockPayRefund | None:
    return session.scalar(select(MockPayRefund).where(MockPayRefund.idempotency_key == key))


def _replayed_refund(
    earlier: MockPayRefund, payment_id: str, amount: int, reason: str
) -> MockPayRefund:
    if (earlier.payment_id, earlier.amount, earlier.reason) != (payment_id, amount, reason):
        raise Conflict(
            "idempotency_key_reused", "this Idempotency-Key was used with a different refund"
        )
    return earlier
