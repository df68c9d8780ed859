"""The mock payment service under races, on SQLite and PostgreSQL: four deliverers over the same
webhook events never send one twice; racing confirmations pay a payment once (QR app, store
terminal, 3-D Secure) with one `payment.paid` event; racing refunds never refund more than was
paid; racing creates with one Idempotency-Key make one payment."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from portal.mock_pay import paying, service, webhooks
from portal.mock_pay.models import MockPayEvent, MockPayment, MockPayRefund

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)
REQUEST = {
    "amount": 300,
    "currency": "JPY",
    "reference": "R-1",
    "description": "住民票の写し（1通）",
    "return_url": "http://127.0.0.1:8000/payments/return",
}


def checkout_url(payment_id: str) -> str:
    return f"http://127.0.0.1:8000/mock-pay/checkout/{payment_id}"


def new_payment(factory, key: str, method: str | None = None) -> MockPayment:
    with factory() as session:
        payment, _ = service.create_payment(
            session, idempotency_key=key, body=REQUEST, checkout_url=checkout_url, now=NOW
        )
        if method:
            payment = paying.choose_method(session, payment.id, method, now=NOW).payment
        session.commit()
        return payment


def race(n: int, action) -> list:
    """Run action(i) in n threads released together; their results (exceptions re-raised)."""
    barrier = threading.Barrier(n, timeout=60)
    results: list = [None] * n
    errors: list = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = action(i)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [], errors
    return results


def in_session(factory, step):
    """One unit of work as a request does it: the step, then one commit."""
    with factory() as session:
        outcome = step(session)
        session.commit()
        return outcome.result


def paid_events(engine, payment_id: str) -> list[str]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(MockPayEvent.type)
                .where(MockPayEvent.payment_id == payment_id)
                .order_by(MockPayEvent.id)
            )
        )


def test_racing_qr_confirmations_pay_once(clean_db, engine):
    factory = sessionmaker(engine, expire_on_commit=False)
    payment = new_payment(factory, "qr-1", "qr")
    results = race(
        10, lambda _i: in_session(factory, lambda s: paying.pay_by_qr(s, payment.id, now=NOW))
    )
    assert Counter(results) == {"paid": 1, "closed": 9}
    assert paid_events(engine, payment.id) == ["payment.pending", "payment.paid"]


def test_racing_store_payments_pay_once(clean_db, engine):
    factory = sessionmaker(engine, expire_on_commit=False)
    payment = new_payment(factory, "konbini-1", "konbini")
    results = race(
        10,
        lambda _i: in_session(
            factory, lambda s: paying.pay_at_store(s, payment.payment_number, now=NOW)
        ),
    )
    assert Counter(results) == {"paid": 1, "already_paid": 9}
    assert paid_events(engine, payment.id) == ["payment.pending", "payment.paid"]


def test_a_store_payment_racing_the_expiry_is_one_or_the_other(clean_db, engine):
    factory = sessionmaker(engine, expire_on_commit=False)
    payment = new_payment(factory, "konbini-2", "konbini")
    deadline = payment.expires_at
    just_before = deadline - dt.timedelta(microseconds=1)

    def act(i: int):
        if i % 2:
            return in_session(
                factory, lambda s: paying.pay_at_store(s, payment.payment_number, now=just_before)
            )
        with factory() as session:
            expired = service.expire_due(session, now=deadline)
            session.commit()
            return f"expired {expired}"

    results = race(8, act)
    events = paid_events(engine, payment.id)
    assert events in (
        ["payment.pending", "payment.paid"],
        ["payment.pending", "payment.expired"],
    )
    assert Counter(results)["paid"] + Counter(results)["expired 1"] == 1


def test_racing_3d_secure_answers_pay_once(clean_db, engine):
    factory = sessionmaker(engine, expire_on_commit=False)
    payment = new_payment(factory, "card-1")
    with factory() as session:
        paying.pay_by_card(session, payment.id, service.CARD_CHALLENGE, now=NOW)
        session.commit()
    results = race(
        10,
        lambda _i: in_session(
            factory, lambda s: paying.answer_challenge(s, payment.id, "1234", now=NOW)
        ),
    )
    assert Counter(results) == {"paid": 1, "closed": 9}
    assert paid_events(engine, payment.id) == ["payment.paid"]


def test_racing_refunds_never_refund_more_than_was_paid(clean_db, engine):
    factory = sessionmaker(engine, expire_on_commit=False)
    payment = new_payment(factory, "card-2")
    with factory() as session:
        paying.pay_by_card(session, payment.id, service.CARD_SUCCEEDS, now=NOW)
        session.commit()

    def refund(_i: int) -> str:
        with factory() as session:
            try:
                service.refund(session, payment.id, {"amount": 100, "reason": "還付"}, now=NOW)
            except service.MockPayError as error:
                session.rollback()
                return error.code
            session.commit()
            return "refunded"

    results = race(8, refund)
    assert results.count("refunded") == 3
    with Session(engine) as session:
        stored = session.get(MockPayment, payment.id)
        assert (stored.status, stored.refunded_amount) == ("refunded", 300)
        assert len(session.scalars(select(MockPayRefund)).all()) == 3
    assert paid_events(engine, payment.id).count("payment.refunded") == 3


def test_racing_refunds_with_one_key_refund_once(clean_db, engine):
    factory = sessionmaker(engine, expire_on_commit=False)
    payment = new_payment(factory, "card-3")
    with factory() as session:
        paying.pay_by_card(session, payment.id, service.CARD_SUCCEEDS, now=NOW)
        session.commit()

    def refund(_i: int) -> str:
        with factory() as session:
            refund, _created = service.refund(
                session,
                payment.id,
                {"amount": 100, "reason": "還付"},
                idempotency_key="refund-once",
                now=NOW,
            )
            session.commit()
            return refund.id

    assert len(set(race(8, refund))) == 1
    with Session(engine) as session:
        assert session.get(MockPayment, payment.id).refunded_amount == 100
        assert len(session.scalars(select(MockPayRefund)).all()) == 1


def test_racing_creates_with_one_key_make_one_payment(clean_db, engine):
    factory = sessionmaker(engine, expire_on_commit=False)

    def create(_i: int) -> str:
        with factory() as session:
            payment, _created = service.create_payment(
                session, idempotency_key="same", body=REQUEST, checkout_url=checkout_url, now=NOW
            )
            session.commit()
            return payment.id

    ids = race(8, create)
    assert len(set(ids)) == 1
    with Session(engine) as session:
        assert len(session.scalars(select(MockPayment)).all()) == 1


class CountingReceiver:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(0.005)  # a receiver that takes a moment widens the race
                with receiver.lock:
                    receiver.ids.append(json.loads(body)["id"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"


@pytest.fixture
def receiver():
    receiver = CountingReceiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_racing_deliverers_never_send_an_event_twice(clean_db, engine, receiver):
    factory = sessionmaker(engine, expire_on_commit=False)
    for i in range(30):
        new_payment(factory, f"qr-{i}", "qr")  # one payment.pending event each
    with Session(engine) as session:
        event_ids = set(session.scalars(select(MockPayEvent.event_id)))
    assert len(event_ids) == 30
    config = {
        "PAYMENT_WEBHOOK_URL": receiver.url,
        "PAYMENT_WEBHOOK_SECRET": "mock-pay-webhook-secret",
        "MOCK_PAY_FAULTS": "",
    }

    def deliverer(_i: int) -> int:
        delivered = 0
        while True:
            counts = webhooks.deliver_due(factory, now=NOW, config=config, limit=4)
            delivered += counts["delivered"]
            if not counts["delivered"]:
                return delivered

    results = race(4, deliverer)
    assert sum(results) == 30
    assert Counter(receiver.ids).most_common(1)[0][1] == 1
    assert set(receiver.ids) == event_ids
    with Session(engine) as session:
        events = session.scalars(select(MockPayEvent)).all()
        assert {(e.status, e.attempts) for e in events} == {("delivered", 1)}
