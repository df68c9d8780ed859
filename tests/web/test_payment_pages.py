"""Paying fees through the portal's pages with an in-process provider (tests/payment_fakes.py):
from the status link to the provider and back, where the return alone proves nothing; the
webhook endpoint (bad signature → 400 and logged, duplicates acknowledged); a tampered amount on
the return is refused; a failed payment can be tried again; one payment for several
applications; receipts; refunds by an approver with a reason (audited); counter cashless."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.audit.models import AuditEntry
from portal.db import db
from portal.outbox.models import OutboxMessage
from portal.payments.models import Payment
from portal.submissions import service as submissions
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token
from tests.factories import staff_sign_in as sign_in
from tests.factories import submitted
from tests.payment_fakes import FakeProvider, webhook

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def provider(app):
    clock.set_override(NOW)
    fake = FakeProvider()
    app.extensions["payment_provider"] = fake
    app.config["PAYMENT_NOTIFY_ADDRESS"] = "kaikei@example.jp"
    yield fake
    clock.set_override(None)


def juminhyo(app, copies: int = 2) -> Submission:
    procedure = app.extensions["catalog"].procedure("juminhyo-copy")
    return submitted(app, "juminhyo-copy", dict(procedure.example_answers, copies=copies))


def status_path(app, submission) -> str:
    return "/status/" + submissions.status_token(app.config["STATUS_LINK_KEY"], submission)


def pay_from_status(client, app, submission):
    page = client.get(status_path(app, submission))
    form = {"status_token": status_path(app, submission).split("/")[-1]}
    return client.post("/payments/start", data={**form, "csrf_token": csrf_token(page.text)})


def payment_row(app) -> Payment:
    with app.app_context():
        return db.session.scalar(select(Payment).order_by(Payment.id.desc()))


def test_pay_from_the_status_link_and_come_back(client, app, provider):
    application = juminhyo(app)
    soup = check_page(client.get(status_path(app, application)))
    assert soup.find("button", string="手数料を支払う（600円）") is not None
    response = pay_from_status(client, app, application)
    assert response.status_code == 303
    assert response.headers["Location"] == "https://pay.example/checkout/pay_1"
    payment = payment_row(app)
    assert (payment.amount, payment.status, payment.provider_payment_id) == (
        600,
        "created",
        "pay_1",
    )

    # Pressing the button again goes to the same payment, not a second one.
    again = pay_from_status(client, app, application)
    assert again.headers["Location"].startswith(f"/payments/p/{payment.public_id}/")
    assert provider.calls == 1

    page_path = again.headers["Location"]
    back = client.get(page_path + "/return?payment_id=pay_1&status=paid")  # the URL lies
    assert back.status_code == 303 and payment_row(app).status == "created"

    provider.set("pay_1", status="paid", method="card")
    assert client.get(page_path + "/return").status_code == 303
    soup = check_page(client.get(page_path))
    assert soup.h1.get_text(strip=True) == "お支払いが完了しました"
    assert client.get(page_path).headers["Referrer-Policy"] == "no-referrer"
    receipt = check_page(client.get(page_path + "/receipt"))
    assert "住民票の写し等の交付請求" in receipt.get_text() and "600円" in receipt.get_text()
    assert "クレジットカード" in receipt.get_text()
    with app.app_context():
        assert db.session.get(Submission, application.id).payment_status == "paid"
        notes = db.session.scalars(select(OutboxMessage)).all()
        assert [(n.kind, n.to_address) for n in notes] == [("payment_paid", "kaikei@example.jp")]
    assert "支払い済み" in client.get(status_path(app, application)).text
    assert client.get(page_path.replace(page_path.split("/")[-1], "wrong-token")).status_code == 404


def test_a_tampered_amount_on_the_return_is_refused(client, app, provider):
    application = juminhyo(app)
    pay_from_status(client, app, application)
    payment = payment_row(app)
    provider.set("pay_1", status="paid", amount=1)
    path = f"/payments/p/{payment.public_id}/"
    token = re.search(
        rf"{path}([^/\"]+)", pay_from_status(client, app, application).headers["Location"]
    )
    response = client.get(f"{path}{token.group(1)}/return")
    soup = check_page(response, 409)
    assert "お支払いを確認できませんでした" in soup.h1.get_text()
    assert payment_row(app).status == "created"


def test_the_webhook_endpoint_verifies_and_deduplicates(client, app, provider, caplog):
    application = juminhyo(app)
    pay_from_status(client, app, application)
    observed = provider.set("pay_1", status="paid", method="qr")
    now = int(NOW.timestamp())
    body, headers = webhook(observed, "evt_1", now, secret="wrong")
    with caplog.at_level(logging.WARNING):
        refused = client.post("/payments/webhooks/mock", data=body, headers=headers)
    assert refused.status_code == 400
    assert "webhook refused (signature)" in caplog.text
    assert payment_row(app).status == "created"

    body, headers = webhook(observed, "evt_1", now)
    first = client.post("/payments/webhooks/mock", data=body, headers=headers)
    second = client.post("/payments/webhooks/mock", data=body, headers=headers)
    assert (first.status_code, first.text) == (200, "applied\n")
    assert (second.status_code, second.text) == (200, "duplicate\n")
    late_pending, headers = webhook(observed, "evt_0", now, status="pending")
    assert client.post("/payments/webhooks/mock", data=late_pending, headers=headers).text == (
        "no_change\n"
    )
    assert payment_row(app).status == "paid"
    old_body, old_headers = webhook(observed, "evt_9", now - 3600)
    assert (
        client.post("/payments/webhooks/mock", data=old_body, headers=old_headers).status_code
        == 400
    )
    assert client.post("/payments/webhooks/other", data=body, headers=headers).status_code == 404


def test_a_failed_payment_can_be_tried_again(client, app, provider):
    application = juminhyo(app)
    first = pay_from_status(client, app, application)
    provider.set("pay_1", status="failed", method="card")
    page_path = pay_from_status(client, app, application).headers["Location"]
    client.get(page_path + "/return")
    page = client.get(page_path)
    soup = check_page(page)
    assert "お支払いできませんでした" in soup.get_text()
    retry = client.post(page_path + "/retry", data={"csrf_token": csrf_token(page.text)})
    assert retry.headers["Location"] == "https://pay.example/checkout/pay_2"
    assert first.headers["Location"] != retry.headers["Location"]


def test_one_payment_for_several_applications(client, app, provider, tmp_path):
    from portal.mock_jpki.ca import MockCA
    from tests.web.test_identity_features import StubProvider, login

    app.extensions["identity_provider"] = StubProvider(MockCA(tmp_path / "ca"))
    login(client, "parent")
    with client.session_transaction() as web_session:
        sub = web_session["user"]["sub"]
    two, three = juminhyo(app, 2), juminhyo(app, 3)
    with app.app_context():
        for application in (two, three):
            db.session.get(Submission, application.id).owner_sub = sub
        db.session.commit()
    page = client.get("/my/applications")
    soup = check_page(page)
    boxes = soup.select("input[name=application]")
    assert {box["value"] for box in boxes} == {two.public_id, three.public_id}
    response = client.post(
        "/payments/start",
        data={"application": [two.public_id, three.public_id], "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 303
    payment = payment_row(app)
    with app.app_context():
        payment = db.session.get(Payment, payment.id)
        assert payment.amount == 1500 and [i.amount for i in payment.items] == [600, 900]
    someone_else = juminhyo(app, 1)
    refused = client.post(
        "/payments/start",
        data={"application": [someone_else.public_id], "csrf_token": csrf_token(page.text)},
    )
    assert refused.status_code == 404


def approver(app):
    from portal.staff import service as staff_service

    with app.app_context():
        _member, secret = staff_service.create_member(
            db.session,
            login_id="shimin-approver",
            display_name="承認 さん",
            password="correct horse battery",
            roles=[("approver", "shimin")],
            key=app.extensions["submission_services"].my_number_key,
            now=clock.now(),
        )
        db.session.commit()
    return secret


def test_refunds_need_an_approver_and_a_reason(client, app, provider, staff):  # noqa: F811
    application = juminhyo(app)
    pay_from_status(client, app, application)
    provider.set("pay_1", status="paid", method="card")
    page_path = pay_from_status(client, app, application).headers["Location"]
    client.get(page_path + "/return")
    payment = payment_row(app)

    clerk = sign_in(app.test_client(), "shimin-clerk", staff["shimin-clerk"])
    soup = check_page(clerk.get(f"/staff/payments/{payment.public_id}"))
    assert soup.find("button", string=re.compile("返金する")) is None
    page = clerk.get(f"/staff/payments/{payment.public_id}")
    refused = clerk.post(
        f"/staff/payments/{payment.public_id}/refund",
        data={"reason": "取下げのため", "csrf_token": csrf_token(page.text)},
    )
    assert refused.status_code == 404

    boss = sign_in(app.test_client(), "shimin-approver", approver(app))
    page = boss.get(f"/staff/payments/{payment.public_id}")
    short = boss.post(
        f"/staff/payments/{payment.public_id}/refund",
        data={"reason": "取下", "csrf_token": csrf_token(page.text)},
    )
    soup = check_page(short, 422)
    assert "返金の理由を4文字以上" in soup.select_one(".error-summary").get_text()
    done = boss.post(
        f"/staff/payments/{payment.public_id}/refund",
        data={"reason": "申請の取下げによる返金", "csrf_token": csrf_token(page.text)},
    )
    assert done.status_code == 303
    assert provider.refunds == [("pay_1", 600, "申請の取下げによる返金")]
    assert payment_row(app).status == "refunded"
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.target.like("payment:%")))
        assert entry.reason == "返金: 申請の取下げによる返金" and entry.department == "shimin"
        assert db.session.get(Submission, application.id).payment_status == "refunded"
    assert "返金済み" in client.get(page_path).text


def test_counter_cashless_shows_a_qr_code_and_updates(app, provider, staff):  # noqa: F811
    clerk = sign_in(app.test_client(), "shimin-clerk", staff["shimin-clerk"])
    page = clerk.get("/staff/payments/counter")
    check_page(page)
    bad = clerk.post(
        "/staff/payments/counter",
        data={
            "department": "shimin",
            "description": "",
            "amount": "abc",
            "csrf_token": csrf_token(page.text),
        },
    )
    soup = check_page(bad, 422)
    assert "金額を1円から" in soup.select_one(".error-summary").get_text()
    made = clerk.post(
        "/staff/payments/counter",
        data={
            "department": "shimin",
            "description": "住民票の写し 2通",
            "amount": "６００",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert made.status_code == 303
    detail = clerk.get(made.headers["Location"])
    soup = check_page(detail)
    assert soup.select_one("svg.qr[role=img]") is not None
    provider.set("pay_1", status="paid", method="qr")
    clerk.post(made.headers["Location"] + "/refresh", data={"csrf_token": csrf_token(detail.text)})
    soup = check_page(clerk.get(made.headers["Location"]))
    assert "お支払い済み" in soup.select_one(".status-tag").get_text()
    assert soup.select_one("svg.qr") is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_flask_payments_reconcile_finds_a_lost_webhook(client, app, provider):
    application = juminhyo(app)
    pay_from_status(client, app, application)
    provider.set("pay_1", status="paid", method="konbini")  # paid at the store; no webhook
    runner = app.test_cli_runner()
    assert "0 checked" in runner.invoke(args=["payments", "reconcile"]).output
    clock.set_override(NOW + dt.timedelta(minutes=11))
    output = runner.invoke(args=["payments", "reconcile"]).output
    assert output.strip() == "payments: 1 checked, 1 changed, 0 refused, 0 unreachable"
    assert payment_row(app).status == "paid"


def test_a_paid_application_shows_its_fee_as_paid_and_offers_no_payment(client, app, provider):
    """The `paid` state of tests/factories.py, as the resident's status page shows it."""
    from tests.factories import paid

    application = juminhyo(app)
    paid(app, application.id, provider)
    with app.app_context():
        row = db.session.get(Submission, application.id)
        assert row.payment_status == "paid"
        fee = row.fee_amount
    page = check_page(client.get(status_path(app, application)))
    assert f"{fee:,}円（支払い済み）" in page.get_text()
    assert not page.find("button", string=re.compile("手数料を支払う"))
