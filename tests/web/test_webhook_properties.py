"""Property: the payment webhook receiver (the real provider client's parsing, the engine behind
it, the database) answers any request with a decision, 2xx or 4xx, never a 5xx: bodies of any
bytes, signature headers of any text, and correctly signed events whose ids, statuses, amounts
and URLs are hostile (control characters, lone surrogates, astral-plane characters, thousands of
characters). Marked `db`: PostgreSQL refuses NUL and over-long values where SQLite does not."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.payments import service as payments
from portal.payments.models import Payment, PaymentEvent
from portal.payments.providers import SIGNATURE_HEADER, provider_from_config
from portal.submissions.models import Submission
from tests.factories import submitted

pytestmark = pytest.mark.db

URL = "/payments/webhooks/mock"
ANY_CHARACTER = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
HOSTILE_TEXT = st.one_of(
    st.text(ANY_CHARACTER, max_size=40),
    st.binary(max_size=40).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
    st.integers(0, 3000).map(lambda n: "x" * n),
    st.sampled_from(["\x00", "\ud800", "\U0001f600", "pay_1", "paid", "", " "]),
)
SETTINGS = settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def receiver(app):
    """A payment of the real provider client (`mock`, verified with the configured secret):
    its (public id, provider payment id, amount)."""
    app.extensions["payment_provider"] = provider_from_config(app.config)
    application = submitted(app, "juminhyo-copy")
    with app.app_context():
        row = db.session.get(Submission, application.id)
        payment = payments.create(db.session, applications=[row], now=clock.now(), owner_sub=None)
        payment.provider, payment.provider_payment_id = "mock", "pay_1"
        db.session.commit()
        return payment.public_id, "pay_1", payment.amount


def as_header(text: str) -> str:
    """What a WSGI server hands over: the bytes of a header line read as Latin-1 (no CR/LF)."""
    raw = text.encode("utf-8", "surrogatepass").replace(b"\r", b"").replace(b"\n", b"")
    return raw.decode("latin-1")


def signed(app, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    now = int(clock.now().timestamp()) if timestamp is None else timestamp
    secret = app.config["PAYMENT_WEBHOOK_SECRET"].encode()
    digest = hmac.new(secret, f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"t={now},v1={digest}", "Content-Type": "application/json"}


def assert_decided(response) -> None:
    assert 200 <= response.status_code < 500, response.status_code
    assert response.status_code < 300 or response.status_code >= 400


@SETTINGS
@given(
    body=st.one_of(
        st.binary(max_size=300), HOSTILE_TEXT.map(lambda t: t.encode("utf-8", "replace"))
    ),
    header=HOSTILE_TEXT,
    shape=st.sampled_from(["raw", "t-and-v1", "v1-only", "huge-t"]),
)
def test_unsigned_or_badly_signed_requests_are_refused(app, receiver, body, header, shape):
    now = int(clock.now().timestamp())
    value = {
        "raw": header,
        "t-and-v1": f"t={now},v1={header}",
        "v1-only": f"v1={header}",
        "huge-t": f"t={'9' * 5000},v1={header}",
    }[shape]
    response = app.test_client().post(URL, data=body, headers={SIGNATURE_HEADER: as_header(value)})
    assert response.status_code == 400  # nothing verifies without the secret


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HOSTILE_TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(HOSTILE_TEXT, children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def events(draw, receiver):
    """An event as the provider might send it, any part of it replaced by something hostile."""
    public_id, provider_id, amount = receiver

    def maybe(real):
        return draw(st.one_of(st.just(real), HOSTILE_TEXT, JSON_VALUE))

    payment = {
        "id": maybe(provider_id),
        "status": maybe(draw(st.sampled_from(["paid", "pending", "failed", "refunded"]))),
        "amount": maybe(amount),
        "currency": maybe("JPY"),
        "reference": maybe(public_id),
        "method": maybe("card"),
        "checkout_url": maybe(None),
        "payment_number": maybe(None),
        "expires_at": maybe(None),
    }
    event = {
        "id": maybe(f"evt_{draw(st.integers(0, 10**6))}"),
        "type": maybe("payment.paid"),
        "data": draw(st.one_of(st.just({"payment": payment}), JSON_VALUE)),
    }
    return draw(st.one_of(st.just(event), JSON_VALUE))


@SETTINGS
@given(data=st.data())
def test_signed_events_with_hostile_fields_get_a_decision(app, receiver, data):
    event = data.draw(events(receiver))
    body = json.dumps(event).encode()  # lone surrogates travel as \\ud800 escapes
    response = app.test_client().post(URL, data=body, headers=signed(app, body))
    assert_decided(response)


def test_an_over_long_event_id_is_refused_before_the_database(app, receiver):
    public_id, provider_id, amount = receiver
    payment = {
        "id": provider_id,
        "status": "paid",
        "amount": amount,
        "currency": "JPY",
        "reference": public_id,
    }
    for event_id in ("e" * 65, "evt\x00", "evt_\ud800", "evt_日本"):
        body = json.dumps({"id": event_id, "type": "payment.paid", "data": {"payment": payment}})
        response = app.test_client().post(URL, data=body, headers=signed(app, body.encode()))
        assert response.status_code == 400, event_id
    body = json.dumps({"id": "e" * 64, "type": "payment.paid", "data": {"payment": payment}})
    response = app.test_client().post(URL, data=body, headers=signed(app, body.encode()))
    assert (response.status_code, response.text) == (200, "applied\n")
    with app.app_context():
        assert db.session.scalar(select(PaymentEvent.event_id)) == "e" * 64
        assert db.session.scalar(select(Payment.status)) == "paid"
