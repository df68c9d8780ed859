"""Paying fees: what is owed, starting a payment at the provider, applying what the provider
reports (browser return, webhook, reconciliation) through the status machine, refunds.

Rules that keep money right:
- The amount is always computed here from the stored answers with the catalog's fee rule (as of
  the day the application was submitted), never taken from a form or the provider.
- The browser's return proves nothing: the portal asks the provider. Webhooks count only when
  their signature verifies, once per event id.
- Whatever reports a state, it must be this payment (reference), this amount and this currency,
  or it is refused (`Tampered`) and nothing changes.
- A status changes only through `states.TRANSITIONS` with a conditional UPDATE; only the request
  that wins the UPDATE records the transition and runs its effects (the application is marked
  paid, one notification is queued), so racing reports cannot confirm a payment twice.
- Calls to the provider happen outside database transactions (the callers commit first): on
  SQLite a held write lock would otherwise stall the provider, which may share the database.

Callers commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.catalog import logic
from portal.clock import TOKYO
from portal.db import lock_in_order
from portal.outbox import service as outbox
from portal.payments import states
from portal.payments.models import (
    CREATED,
    EXPIRED,
    PAID,
    PENDING,
    REFUNDED,
    Payment,
    PaymentEvent,
    PaymentItem,
    PaymentTransition,
)
from portal.payments.providers import PaymentProvider, ProviderPayment, WebhookEvent
from portal.security import derived_token, new_reference
from portal.submissions import service as submissions
from portal.submissions.models import (
    PAYMENT_AFTER_REVIEW,
    PAYMENT_PAID,
    PAYMENT_REFUNDED,
    PAYMENT_UNPAID,
    Submission,
)

log = logging.getLogger(__name__)

CURRENCY = "JPY"
PAYABLE_AFTER_REVIEW = frozenset({"approved", "completed"})


class Tampered(Exception):
    """What the provider reported is not this payment, amount or currency."""


class NothingToPay(Exception):
    """None of the applications has a fee that is due now."""


def access_token(secret: str, public_id: str) -> str:
    """The bearer token of a payment's pages (its URL); derived, so nothing secret is stored."""
    return derived_token(secret, "payment-page", public_id)


def fee_of(submission: Submission) -> int:
    """The fee of an application from its stored answers, as on the day it was submitted."""
    procedure = submissions.procedure_of(submission)
    day = (submission.submitted_at or submission.created_at).astimezone(TOKYO).date()
    return logic.fee_amount(procedure, submission.answers, day) or 0


def payable(submission: Submission) -> bool:
    """Whether the application's fee can be paid now."""
    if submission.submitted_at is None or fee_of(submission) <= 0:
        return False
    if submission.payment_status == PAYMENT_UNPAID:
        return True
    return (
        submission.payment_status == PAYMENT_AFTER_REVIEW
        and submission.status in PAYABLE_AFTER_REVIEW
    )


def open_payment_of(session: Session, submission: Submission) -> Payment | None:
    """A payment under way for this application (created or pending), if any."""
    return session.scalar(
        select(Payment)
        .join(PaymentItem, PaymentItem.payment_id == Payment.id)
        .where(PaymentItem.submission_id == submission.id, Payment.status.in_(states.OPEN))
        .order_by(Payment.id.desc())
    )


def items_for(applications: Sequence[Submission]) -> list[PaymentItem]:
    """One item per application whose fee is due now, with the fee computed from its stored
    answers (the only source of a payment's amount)."""
    return [
        PaymentItem(
            submission_id=s.id,
            description=f"{submissions.procedure_of(s).title}（受付番号 {s.reference}）",
            amount=fee_of(s),
        )
        for s in applications
        if payable(s)
    ]


def _pending_payment(session: Session, submission: Submission) -> bool:
    return (
        session.scalar(
            select(Payment.id)
            .join(PaymentItem, PaymentItem.payment_id == Payment.id)
            .where(PaymentItem.submission_id == submission.id, Payment.status == PENDING)
        )
        is not None
    )


def create(
    session: Session,
    *,
    applications: Sequence[Submission],
    now: dt.datetime,
    owner_sub: str | None,
) -> Payment:
    """A payment (status created) for the fees of these applications; flushed, not yet known to
    the provider (commit, then `register`)."""
    # Not one that already has a payment under way with a method chosen (a convenience-store
    # number issued, a card being checked): that one may still be paid.
    free = [s for s in applications if not _pending_payment(session, s)]
    items = items_for(free)
    if not items:
        raise NothingToPay()
    due = [s for s in free if payable(s)]
    payment = Payment(
        public_id=secrets.token_hex(16),
        reference=_unique_reference(session),
        department=due[0].department,
        provider="",
        amount=sum(item.amount for item in items),
        currency=CURRENCY,
        status=CREATED,
        owner_sub=owner_sub,
        created_at=now,
        updated_at=now,
        items=items,
    )
    session.add(payment)
    session.flush()
    return payment


def create_counter_charge(
    session: Session,
    *,
    department: str,
    description: str,
    amount: int,
    staff_id: int,
    now: dt.datetime,
) -> Payment:
    """A charge a clerk takes at the counter (counter cashless), without an application."""
    return _charge_without_application(
        session, department, description, amount, now, taken_by=staff_id
    )


def create_resident_charge(
    session: Session,
    *,
    department: str,
    description: str,
    amount: int,
    owner_sub: str,
    now: dt.datetime,
) -> Payment:
    """A charge a resident pays without an application (a certificate printed at a kiosk)."""
    return _charge_without_application(
        session, department, description, amount, now, owner_sub=owner_sub
    )


def _charge_without_application(
    session: Session,
    department: str,
    description: str,
    amount: int,
    now: dt.datetime,
    *,
    taken_by: int | None = None,
    owner_sub: str | None = None,
) -> Payment:
    payment = Payment(
        public_id=secrets.token_hex(16),
        reference=_unique_reference(session),
        department=department,
        provider="",
        amount=amount,
        currency=CURRENCY,
        status=CREATED,
        taken_by=taken_by,
        owner_sub=owner_sub,
        created_at=now,
        updated_at=now,
        items=[PaymentItem(submission_id=None, description=description, amount=amount)],
    )
    session.add(payment)
    session.flush()
    return payment


def _unique_reference(session: Session) -> str:
    while True:
        reference = new_reference("PAY")
        if session.scalar(select(Payment.id).where(Payment.reference == reference)) is None:
            return reference


def description_of(payment: Payment) -> str:
    if len(payment.items) == 1:
        return payment.items[0].description
    return f"{payment.items[0].description} ほか{len(payment.items) - 1}件"


def register(provider: PaymentProvider, payment: Payment, return_url: str) -> ProviderPayment:
    """Create the payment at the provider (call outside a transaction). The payment's public id
    is the idempotency key: asking again after a lost answer gives the same provider payment."""
    return provider.create(
        amount=payment.amount,
        currency=payment.currency,
        reference=payment.public_id,
        description=description_of(payment),
        return_url=return_url,
        idempotency_key=payment.public_id,
    )


def registered(session: Session, payment: Payment, observed: ProviderPayment, provider: str):
    _check(payment, observed, provider_id_known=False)
    payment.provider = provider
    payment.provider_payment_id = observed.id
    payment.checkout_url = observed.checkout_url


def _check(payment: Payment, observed: ProviderPayment, provider_id_known: bool = True) -> None:
    problems = []
    if observed.reference != payment.public_id:
        problems.append("reference")
    if observed.amount != payment.amount or isinstance(observed.amount, bool):
        problems.append("amount")
    if observed.currency != payment.currency:
        problems.append("currency")
    if provider_id_known and payment.provider_payment_id not in (None, observed.id):
        problems.append("provider id")
    if problems:
        # Ids only: the log never holds personal data.
        log.warning("payment %s: provider reported a different %s", payment.public_id, problems)
        raise Tampered(", ".join(problems))


def apply(
    session: Session,
    payment: Payment,
    observed: ProviderPayment,
    *,
    source: str,
    now: dt.datetime,
    notify_to: str | None = None,
) -> bool:
    """Move the payment to the state the provider reports, if the status machine allows it.
    True only for the one caller whose conditional UPDATE made the change (and ran the
    effects). Raises Tampered (nothing changes) if it is not this payment's amount/currency."""
    _check(payment, observed)
    target = observed.status
    if target not in states.TRANSITIONS:
        return False
    return transition(
        session,
        payment,
        target,
        source=source,
        now=now,
        method=observed.method,
        notify_to=notify_to,
    )


def transition(
    session: Session,
    payment: Payment,
    target: str,
    *,
    source: str,
    now: dt.datetime,
    method: str | None = None,
    notify_to: str | None = None,
    values: dict | None = None,
) -> bool:
    sources = states.TRANSITIONS[target]
    changes = {"status": target, "updated_at": now, **(values or {})}
    if target == PAID:
        changes["paid_at"] = now
    if method:
        changes["method"] = method
    previous = None
    for source_status in sorted(sources):  # one guarded UPDATE per source: the winner knows it
        result = session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status == source_status)
            .values(**changes)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            previous = source_status
            break
    session.refresh(payment)
    if previous is None:
        return False
    session.add(
        PaymentTransition(
            payment_id=payment.id, from_status=previous, to_status=target, source=source, at=now
        )
    )
    _effects(session, payment, target, now, notify_to)
    return True


def _effects(session: Session, payment: Payment, target: str, now, notify_to) -> None:
    ids = [item.submission_id for item in payment.items if item.submission_id is not None]
    # The payment's row is locked (its guarded UPDATE); the applications next, by id, so that
    # two payments over the same applications never wait for each other in a circle.
    lock_in_order(session, Submission.id, ids)
    if target == PAID:
        if ids:
            session.execute(
                update(Submission)
                .where(Submission.id.in_(ids))
                .values(payment_status=PAYMENT_PAID, updated_at=now)
            )
        if notify_to:
            outbox.enqueue(
                session,
                kind="payment_paid",
                to=notify_to,
                subject=f"【入金】{payment.reference} {payment.amount:,}円",
                body=(
                    f"次の手数料の入金を確認しました（デモ）。\n\n支払番号：{payment.reference}\n"
                    f"金額：{payment.amount:,}円\n支払方法：{payment.method or '-'}\n"
                    + "\n".join(f"・{item.description} {item.amount:,}円" for item in payment.items)
                    + "\n"
                ),
                send_after=now,
                related=f"payment:{payment.public_id}",
                now=now,
            )
    elif target == REFUNDED and ids:
        session.execute(
            update(Submission)
            .where(Submission.id.in_(ids))
            .values(payment_status=PAYMENT_REFUNDED, updated_at=now)
        )


def by_provider_payment(session: Session, observed: ProviderPayment) -> Payment | None:
    payment = session.scalar(select(Payment).where(Payment.provider_payment_id == observed.id))
    if payment is None:  # the answer to `register` may have been lost; the reference is ours
        payment = session.scalar(select(Payment).where(Payment.public_id == observed.reference))
    return payment


@dataclass(frozen=True)
class WebhookResult:
    status: int
    outcome: str  # applied | no_change | duplicate | unknown_payment | refused


# Provider ids, event ids and our references are short printable ASCII; the columns hold 64
# (a method 16, a checkout address 500).
_IDENTIFIER = re.compile(r"[\x21-\x7e]{1,64}")
_METHOD = re.compile(r"[\x21-\x7e]{1,16}")
_URL = re.compile(r"[\x21-\x7e]{1,500}")


def _identifiers_ok(event: WebhookEvent) -> bool:
    observed = event.payment
    texts = (event.id, event.type, observed.id, observed.reference or "-", observed.status)
    return (
        all(isinstance(t, str) and _IDENTIFIER.fullmatch(t) for t in texts)
        and (observed.method is None or bool(_METHOD.fullmatch(str(observed.method))))
        and (observed.checkout_url is None or bool(_URL.fullmatch(str(observed.checkout_url))))
    )


def _record_event(session: Session, provider: str, event: WebhookEvent, payment_id, outcome, now):
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return session.execute(
        insert(PaymentEvent)
        .values(
            provider=provider,
            event_id=event.id,
            event_type=event.type[:32],
            payment_id=payment_id,
            outcome=outcome,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(PaymentEvent.id)
    ).first()


def handle_webhook(
    session: Session,
    provider: PaymentProvider,
    event: WebhookEvent,
    *,
    now: dt.datetime,
    notify_to: str | None = None,
) -> WebhookResult:
    """Apply one verified event, at most once per event id, in any order. An event whose
    identifiers could not be stored or looked up (decision 0044) is refused, not a 500."""
    if not _identifiers_ok(event):
        return WebhookResult(400, "refused")
    payment = by_provider_payment(session, event.payment)
    if payment is None:
        _record_event(session, provider.name, event, None, "unknown_payment", now)
        log.warning("webhook %s for an unknown payment", event.id)
        return WebhookResult(200, "unknown_payment")
    if _record_event(session, provider.name, event, payment.id, "received", now) is None:
        return WebhookResult(200, "duplicate")
    if payment.provider_payment_id is None:  # the answer to `register` was lost
        registered(session, payment, event.payment, provider.name)
    try:
        changed = apply(
            session, payment, event.payment, source="webhook", now=now, notify_to=notify_to
        )
    except Tampered:
        return WebhookResult(400, "refused")
    outcome = "applied" if changed else "no_change"
    session.execute(
        update(PaymentEvent)
        .where(PaymentEvent.provider == provider.name, PaymentEvent.event_id == event.id)
        .values(outcome=outcome)
    )
    return WebhookResult(200, outcome)


def to_reconcile(session: Session, now: dt.datetime, quiet_for: dt.timedelta) -> list[Payment]:
    """Payments still open that nothing has told us about for a while (a lost webhook)."""
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.status.in_(states.OPEN), Payment.updated_at < now - quiet_for)
            .order_by(Payment.id)
            .limit(200)
        )
    )


def reconcile(
    sessions,
    provider: PaymentProvider,
    *,
    now: dt.datetime,
    quiet_for: dt.timedelta = dt.timedelta(minutes=10),
    notify_to: str | None = None,
) -> dict[str, int]:
    """Ask the provider about every quiet open payment and apply the answer (`sessions`: a
    session factory; each payment is its own transaction, committed before the next call)."""
    counts = {"checked": 0, "changed": 0, "refused": 0, "unreachable": 0}
    with sessions() as session:
        ids = [
            (p.id, p.provider_payment_id, p.created_at)
            for p in to_reconcile(session, now, quiet_for)
        ]
    for payment_id, provider_id, created_at in ids:
        counts["checked"] += 1
        if provider_id is None:
            # Never reached the provider: after two hours nobody can pay it any more.
            if now - created_at > dt.timedelta(hours=2):
                with sessions() as session:
                    payment = session.get(Payment, payment_id)
                    if transition(session, payment, EXPIRED, source="reconcile", now=now):
                        counts["changed"] += 1
                    session.commit()
            continue
        try:
            observed = provider.get(provider_id)
        except Exception:  # noqa: BLE001 - ProviderError or a network error: try next round
            counts["unreachable"] += 1
            continue
        with sessions() as session:
            payment = session.get(Payment, payment_id)
            try:
                changed = apply(
                    session, payment, observed, source="reconcile", now=now, notify_to=notify_to
                )
            except Tampered:
                counts["refused"] += 1
                session.rollback()
                continue
            if not changed:  # still pending: look again later, not every round
                payment.updated_at = now
            counts["changed"] += int(changed)
            session.commit()
    return counts
