"""Counter bookings on the submission engine's status page (portal.submissions.extensions):
a procedure with a counter visit offers to book it for the application."""

from __future__ import annotations

from flask import get_template_attribute
from markupsafe import Markup

from portal.submissions import service as submissions
from portal.submissions.extensions import Extensions, StatusItem
from portal.submissions.models import Submission


def status_item(submission: Submission, token: str) -> StatusItem | None:
    procedure = submissions.procedure_of(submission)
    if not procedure.appointment:
        return None
    booking = get_template_attribute("appointments/_status_item.html", "booking")
    body: Markup = booking(procedure, submission)  # escaped by the template
    return StatusItem(body=body)


def register_extensions(registry: Extensions) -> None:
    registry.add_status_items(status_item)
