"""A signed webhook whose identifiers cannot be stored is refused with a 400, not a 500, on both
databases (issue 25, decision 0044): over-long or NUL-bearing event ids, payment ids, references,
types, methods and checkout addresses."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.db import db
from portal.payments.models import PaymentEvent
from tests.payment_fakes import webhook
from tests.web.test_payment_pages import NOW, juminhyo, pay_from_status, payment_row, provider

pytestmark = pytest.mark.db

__all__ = ["provider"]  # the fixture

BAD = [
    ("event id", {"event_id": "evt_" + "x" * 100}),
    ("event id with NUL", {"event_id": "evt\x00"}),
    ("empty event id", {"event_id": ""}),
    ("payment id", {"id": "pay_" + "x" * 100}),
    ("reference", {"reference": "R" * 100_000}),
    ("type", {"status": "paid\x00" + "x" * 100}),
    ("method", {"method": "card" * 10}),
    ("checkout address", {"checkout_url": "https://pay.example/" + "x" * 1000}),
]


@pytest.mark.parametrize(("what", "changes"), BAD, ids=[what for what, _c in BAD])
def test_unstorable_identifiers_are_refused(client, app, provider, what, changes):  # noqa: F811
    application = juminhyo(app)
    pay_from_status(client, app, application)
    observed = provider.set("pay_1", status="paid", method="card")
    event_id = changes.pop("event_id", "evt_1")
    body, headers = webhook(observed, event_id, int(NOW.timestamp()), **changes)
    response = client.post("/payments/webhooks/mock", data=body, headers=headers)
    assert (response.status_code, response.text) == (400, "refused\n"), what
    assert payment_row(app).status == "created"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PaymentEvent)) == 0
    # The same event with good identifiers is applied.
    body, headers = webhook(observed, "evt_ok", int(NOW.timestamp()))
    assert client.post("/payments/webhooks/mock", data=body, headers=headers).text == "applied\n"
