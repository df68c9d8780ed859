"""Every model of the portal, imported in one place for Alembic and the tests."""

from portal.appointments.models import Appointment, AppointmentSlot
from portal.audit.models import AuditEntry, AuditHead
from portal.bundles.models import Bundle
from portal.identity.models import WebSession
from portal.jobs.models import Job
from portal.mock_jpki.models import (
    MockAccessToken,
    MockAuthorizationCode,
    MockCard,
    MockSignTransaction,
)
from portal.mock_pay.models import MockPayEvent, MockPayment, MockPayRefund
from portal.outbox.models import OutboxMessage
from portal.payments.models import Payment
from portal.records.models import RecordRead
from portal.staff.models import StaffApiToken, StaffMember, StaffRole
from portal.submissions.models import Submission, SubmissionEvent
from portal.uploads.models import Upload

__all__ = [
    "Appointment",
    "AppointmentSlot",
    "AuditEntry",
    "AuditHead",
    "Bundle",
    "Job",
    "MockAccessToken",
    "MockAuthorizationCode",
    "MockCard",
    "MockPayEvent",
    "MockPayRefund",
    "MockPayment",
    "MockSignTransaction",
    "OutboxMessage",
    "Payment",
    "RecordRead",
    "StaffApiToken",
    "StaffMember",
    "StaffRole",
    "Submission",
    "SubmissionEvent",
    "Upload",
    "WebSession",
]
