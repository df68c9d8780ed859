"""The payment status machine: which status may follow which.

    created ─┬─> pending ─┬─> paid ──> refunded
             │            ├─> failed
             │            └─> expired
             ├─> paid (a webhook or a look-up may skip "pending")
             ├─> failed
             └─> expired

Events can arrive in any order: "paid" and then a late "pending" leaves the payment paid,
because pending does not follow paid. The final states are paid (until refunded), failed,
expired and refunded; a resident who failed or let a payment expire starts a new one.
"""

from __future__ import annotations

from portal.payments.models import CREATED, EXPIRED, FAILED, PAID, PENDING, REFUNDED

TRANSITIONS: dict[str, frozenset[str]] = {
    # target: the statuses it may follow
    PENDING: frozenset({CREATED}),
    PAID: frozenset({CREATED, PENDING}),
    FAILED: frozenset({CREATED, PENDING}),
    EXPIRED: frozenset({CREATED, PENDING}),
    REFUNDED: frozenset({PAID}),
}
STATUSES = frozenset({CREATED, PENDING, PAID, FAILED, EXPIRED, REFUNDED})
OPEN = frozenset({CREATED, PENDING})  # not decided yet: the reconciliation job asks about these

LABELS = {
    CREATED: "お支払い前",
    PENDING: "お支払い待ち",
    PAID: "お支払い済み",
    FAILED: "お支払いできませんでした",
    EXPIRED: "期限切れ",
    REFUNDED: "返金済み",
}


def allowed(source: str, target: str) -> bool:
    return source in TRANSITIONS.get(target, frozenset())
