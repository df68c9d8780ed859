"""Payments on the submission engine's pages, through its extension points
(portal.submissions.extensions): the fee, its payment status and the pay button on the status
page, and the unpaid fees (paid together) on "my applications"."""

from __future__ import annotations

from collections.abc import Sequence

from flask import get_template_attribute
from markupsafe import Markup

from portal.i18n import translate
from portal.payments import service
from portal.payments.views import fee_payable, payment_status_text
from portal.submissions.extensions import Extensions, StatusItem
from portal.submissions.models import Submission


def status_item(submission: Submission, token: str) -> StatusItem | None:
    if not submission.fee_amount:
        return None
    text = payment_status_text(submission)
    fact = (
        translate("手数料"),
        translate("%(amount)s円", amount=f"{submission.fee_amount:,}")
        + translate("（")
        + text
        + translate("）"),
    )
    body = None
    if fee_payable(submission):
        fee_and_pay = get_template_attribute("payments/_pay.html", "fee_and_pay")
        body = fee_and_pay(submission, token)  # Markup, escaped by the template
    return StatusItem(facts=(fact,), body=body)


def unpaid_fees(owner_sub: str, submissions: Sequence[Submission]) -> Markup | None:
    unpaid = [s for s in submissions if service.payable(s)]
    if not unpaid:
        return None
    fragment: Markup = get_template_attribute("payments/_pay.html", "unpaid_fees")(unpaid)
    return fragment


def register_extensions(registry: Extensions) -> None:
    registry.add_status_items(status_item)
    registry.add_application_items(unpaid_fees)
