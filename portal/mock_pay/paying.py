"""The hosted payment pages' actions of the mock payment service: choosing a method, paying by
card (with the 3-D Secure challenge), by QR code, and paying a konbini or Pay-easy number at the
"store terminal". Each is a conditional UPDATE through `service.transition`, like every status
change of the mock (see portal/mock_pay/service.py); functions flush and never commit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.mock_pay.models import (
    CREATED,
    FAILED,
    PAID,
    PENDING,
    REFUNDED,
    MockPayment,
)
from portal.mock_pay.service import (
    CHALLENGE_PASSWORD,
    CHALLENGE_TRIES,
    NUMBER_LIFETIME,
    TEST_CARDS,
    InvalidRequest,
    digits,
    expire_if_due,
    get_payment,
    normalize_number,
    transition,
)


@dataclass(frozen=True)
class Outcome:
    """What became of a step the resident (or the store) took. `result` is one of the values
    each function documents; `payment` is the payment afterwards (None if there is none)."""

    result: str
    payment: MockPayment | None
    tries_left: int | None = None


def _closed(session: Session, payment_id: str, now: dt.datetime) -> Outcome:
    """A step that lost its guard: say why (the payment may have expired just now)."""
    payment = session.get(MockPayment, payment_id, populate_existing=True)
    if payment is None:
        return Outcome("not_found", None)
    payment = expire_if_due(session, payment, now=now)
    return Outcome("closed", payment)


def choose_method(session: Session, payment_id: str, method: str, *, now: dt.datetime) -> Outcome:
    """The resident picks a method on the hosted page. Card: the card form comes next (no status
    change). QR: pending, the QR code comes next. Konbini / Pay-easy: pending with a payment
    number valid for 3 days. Results: "chosen", "closed", "not_found"; InvalidRequest for a
    method this payment does not offer."""
    payment = get_payment(session, payment_id, now=now)
    if method not in payment.methods:
        raise InvalidRequest("invalid_method", "this payment does not offer that method")
    if method == "card":
        chosen = transition(
            session, payment_id, expected=(CREATED,), now=now, values={"method": "card"}
        )
    elif method == "qr":
        chosen = transition(
            session,
            payment_id,
            expected=(CREATED,),
            now=now,
            values={"status": PENDING, "method": "qr", "challenge": False},
        )
    else:
        number, confirmation = _new_payment_number(session, method)
        chosen = transition(
            session,
            payment_id,
            expected=(CREATED,),
            now=now,
            values={
                "status": PENDING,
                "method": method,
                "payment_number": number,
                "confirmation_number": confirmation,
                "expires_at": now + NUMBER_LIFETIME,
                "challenge": False,
            },
        )
    if chosen is None:
        return _closed(session, payment_id, now)
    return Outcome("chosen", chosen)


def _new_payment_number(session: Session, method: str) -> tuple[str, str | None]:
    """Konbini: 11 digits. Pay-easy: a 16-digit お客様番号 and a 4-digit 確認番号."""
    while True:
        number = digits(11) if method == "konbini" else digits(16)
        if number[0] == "0":
            continue  # a leading zero is easily lost when people copy numbers into a spreadsheet
        taken = session.scalar(select(MockPayment.id).where(MockPayment.payment_number == number))
        if taken is None:
            return number, (digits(4) if method == "payeasy" else None)


def pay_by_card(session: Session, payment_id: str, number: str, *, now: dt.datetime) -> Outcome:
    """A checked card (see forms.py) is submitted. Results: "paid", "declined" (failed),
    "challenge" (3-D Secure comes next), "closed", "not_found". Only TEST_CARDS reach here."""
    behaviour = TEST_CARDS[number]
    last4 = number[-4:]
    # Another card typed while a 3-D Secure challenge waits replaces that challenge.
    values = {"method": "card", "card_last4": last4, "challenge": False}
    if behaviour == "succeeds":
        values.update(status=PAID, paid_at=now)
    elif behaviour == "declined":
        values.update(status=FAILED, failure_code="declined")
    else:
        values.update(challenge=True, challenge_failures=0)
    done = transition(session, payment_id, expected=(CREATED,), now=now, values=values)
    if done is None:
        return _closed(session, payment_id, now)
    return Outcome({"succeeds": "paid", "declined": "declined"}.get(behaviour, "challenge"), done)


def answer_challenge(
    session: Session, payment_id: str, password: str, *, now: dt.datetime
) -> Outcome:
    """The 3-D Secure one-time password. Results: "paid"; "wrong" (tries_left > 0); "failed"
    after CHALLENGE_TRIES wrong answers; "closed"; "not_found"."""
    waiting = (MockPayment.challenge.is_(True),)
    typed = normalize_number(password)
    if secrets.compare_digest(typed.encode(), CHALLENGE_PASSWORD.encode()):
        done = transition(
            session,
            payment_id,
            expected=(CREATED,),
            now=now,
            values={"status": PAID, "challenge": False, "paid_at": now},
            where=waiting,
        )
        return Outcome("paid", done) if done else _closed(session, payment_id, now)
    counted = transition(
        session,
        payment_id,
        expected=(CREATED,),
        now=now,
        values={"challenge_failures": MockPayment.challenge_failures + 1},
        where=waiting,
    )
    if counted is None:
        return _closed(session, payment_id, now)
    left = CHALLENGE_TRIES - counted.challenge_failures
    if left > 0:
        return Outcome("wrong", counted, tries_left=left)
    failed = transition(
        session,
        payment_id,
        expected=(CREATED,),
        now=now,
        values={"status": FAILED, "challenge": False, "failure_code": "3ds_failed"},
        where=(*waiting, MockPayment.challenge_failures >= CHALLENGE_TRIES),
    )
    return Outcome("failed", failed) if failed else _closed(session, payment_id, now)


def cancel_challenge(session: Session, payment_id: str, *, now: dt.datetime) -> Outcome:
    """キャンセル on the 3-D Secure page: the payment fails. Results: "failed", "closed"."""
    failed = transition(
        session,
        payment_id,
        expected=(CREATED,),
        now=now,
        values={"status": FAILED, "challenge": False, "failure_code": "3ds_cancelled"},
        where=(MockPayment.challenge.is_(True),),
    )
    return Outcome("failed", failed) if failed else _closed(session, payment_id, now)


def pay_by_qr(session: Session, payment_id: str, *, now: dt.datetime) -> Outcome:
    """支払う in the (simulated) phone app. Results: "paid", "closed", "not_found"."""
    done = transition(
        session,
        payment_id,
        expected=(PENDING,),
        now=now,
        values={"status": PAID, "paid_at": now},
        where=(MockPayment.method == "qr",),
    )
    return Outcome("paid", done) if done else _closed(session, payment_id, now)


def pay_at_store(session: Session, number: str, *, now: dt.datetime) -> Outcome:
    """The store terminal (or ATM) takes a konbini number or a Pay-easy お客様番号. Results:
    "paid", "unknown" (no such number), "expired", "already_paid"."""
    number = normalize_number(number)
    payment = None
    if number.isascii() and number.isdigit():
        payment = session.scalar(select(MockPayment).where(MockPayment.payment_number == number))
    if payment is None:
        return Outcome("unknown", None)
    done = transition(
        session,
        payment.id,
        expected=(PENDING,),
        now=now,
        values={"status": PAID, "paid_at": now},
        where=(MockPayment.method.in_(("konbini", "payeasy")),),
    )
    if done is not None:
        return Outcome("paid", done)
    payment = expire_if_due(session, payment, now=now)
    session.refresh(payment)
    if payment.status in (PAID, REFUNDED):
        return Outcome("already_paid", payment)
    return Outcome("expired", payment)
