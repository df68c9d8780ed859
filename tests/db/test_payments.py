"""The portal's payment code against racing and misbehaving reports, on SQLite and PostgreSQL:
the browser's return and the webhook at the same moment give one "paid" transition and one
notification; the same webhook ten times at once has one effect; "paid" before "pending" ends
paid; a tampered amount or currency changes nothing; a lost webhook is found by the
reconciliation job."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.outbox.models import OutboxMessage
from portal.payments import service
from portal.payments.models import Payment, PaymentEvent, PaymentTransition
from portal.submissions.models import Submission
from tests.concurrency import run_together
from tests.payment_fakes import FakeProvider, webhook

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


def submitted_juminhyo(app, copies: int = 2) -> int:
    from portal.demo import example_answers  # noqa: F401  (used by `submitted`)
    from tests.factories import submitted

    with app.app_context():
        procedure = app.extensions["catalog"].procedure("juminhyo-copy")
        answers = dict(procedure.example_answers, copies=copies)
    return submitted(app, "juminhyo-copy", answers).id


@pytest.fixture
def paying(app, engine):
    """A registered payment for a 600-yen application and the provider that holds it."""
    clock.set_override(NOW)
    submission_id = submitted_juminhyo(app)
    provider = FakeProvider()
    with Session(engine) as session:
        application = session.get(Submission, submission_id)
        payment = service.create(session, applications=[application], now=NOW, owner_sub=None)
        session.commit()
        observed = service.register(provider, payment, "https://portal.example/return")
        service.registered(session, payment, observed, provider.name)
        session.commit()
        payment_id = payment.id
    yield provider, payment_id, observed.id
    clock.set_override(None)


def counts(engine, payment_id: int) -> tuple[str, int, int, str]:
    with Session(engine) as session:
        payment = session.get(Payment, payment_id)
        paid = session.scalar(
            select(func.count())
            .select_from(PaymentTransition)
            .where(
                PaymentTransition.payment_id == payment_id, PaymentTransition.to_status == "paid"
            )
        )
        notes = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "payment_paid")
        )
        application = session.scalar(select(Submission.payment_status))
        return payment.status, paid, notes, application


def test_the_return_and_the_webhook_at_the_same_moment_confirm_once(app, engine, paying):
    provider, payment_id, provider_id = paying
    observed = provider.set(provider_id, status="paid", method="card")
    body, headers = webhook(observed, "evt_paid", int(NOW.timestamp()))
    won = []

    def work(n: int) -> None:
        with Session(engine) as session:
            payment = session.get(Payment, payment_id)
            if n % 2:  # the browser came back: the portal asks the provider
                won.append(
                    service.apply(
                        session,
                        payment,
                        provider.get(provider_id),
                        source="return",
                        now=NOW,
                        notify_to="kaikei@example.jp",
                    )
                )
            else:  # the webhook (several deliveries of it)
                event = provider.parse_webhook(body, headers, int(NOW.timestamp()))
                result = service.handle_webhook(
                    session, provider, event, now=NOW, notify_to="kaikei@example.jp"
                )
                won.append(result.outcome == "applied")
            session.commit()

    assert run_together(8, work) == []
    assert won.count(True) == 1
    assert counts(engine, payment_id) == ("paid", 1, 1, "paid")


def test_the_same_webhook_ten_times_has_one_effect(app, engine, paying):
    provider, payment_id, provider_id = paying
    observed = provider.set(provider_id, status="paid", method="qr")
    body, headers = webhook(observed, "evt_once", int(NOW.timestamp()))
    outcomes = []

    def work(_n: int) -> None:
        with Session(engine) as session:
            event = provider.parse_webhook(body, headers, int(NOW.timestamp()))
            outcomes.append(service.handle_webhook(session, provider, event, now=NOW).outcome)
            session.commit()

    assert run_together(10, work) == []
    assert sorted(outcomes) == ["applied"] + ["duplicate"] * 9
    assert counts(engine, payment_id)[:2] == ("paid", 1)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(PaymentEvent)) == 1


def test_paid_before_pending_ends_paid(app, engine, paying):
    provider, payment_id, provider_id = paying
    base = provider.payments[provider_id]
    now = int(NOW.timestamp())
    with Session(engine) as session:
        for event_id, status in (("evt_2", "paid"), ("evt_1", "pending")):
            body, headers = webhook(base, event_id, now, status=status, method="konbini")
            event = provider.parse_webhook(body, headers, now)
            service.handle_webhook(session, provider, event, now=NOW)
            session.commit()
    with Session(engine) as session:
        history = session.execute(
            select(PaymentTransition.from_status, PaymentTransition.to_status)
        ).all()
    assert [tuple(row) for row in history] == [("created", "paid")]
    assert counts(engine, payment_id)[0] == "paid"


@pytest.mark.parametrize("changes", [{"amount": 1}, {"currency": "USD"}, {"reference": "x"}])
def test_a_tampered_report_changes_nothing(app, engine, paying, changes):
    provider, payment_id, provider_id = paying
    provider.set(provider_id, status="paid", **changes)
    now = int(NOW.timestamp())
    body, headers = webhook(provider.payments[provider_id], "evt_bad", now)
    with Session(engine) as session:
        payment = session.get(Payment, payment_id)
        with pytest.raises(service.Tampered):
            service.apply(session, payment, provider.get(provider_id), source="return", now=NOW)
        session.rollback()
        event = provider.parse_webhook(body, headers, now)
        assert service.handle_webhook(session, provider, event, now=NOW).status == 400
        session.rollback()
    assert counts(engine, payment_id) == ("created", 0, 0, "unpaid")


def test_a_lost_webhook_is_found_by_reconciliation(app, engine, paying):
    provider, payment_id, provider_id = paying
    provider.set(provider_id, status="paid", method="konbini")  # the webhook never came

    def sessions():
        return Session(engine)

    early = service.reconcile(sessions, provider, now=NOW + dt.timedelta(minutes=5))
    assert early["checked"] == 0  # too soon: the webhook may still come
    later = service.reconcile(sessions, provider, now=NOW + dt.timedelta(minutes=11))
    assert later == {"checked": 1, "changed": 1, "refused": 0, "unreachable": 0}
    assert counts(engine, payment_id)[:2] == ("paid", 1)
    with Session(engine) as session:
        source = session.scalar(select(PaymentTransition.source))
    assert source == "reconcile"
