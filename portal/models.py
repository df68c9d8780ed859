"""Every model of the production schema, imported in one place for Alembic and the tests.

The mocks' models are not here: they have their own metadata and migrations (portal.mocks_db)."""

from portal.appointments.models import Appointment, AppointmentSlot
from portal.assisted.models import AssistHelper, AssistSession
from portal.audit.models import AuditEntry, AuditHead
from portal.bundles.models import Bundle
from portal.identity.models import WebSession
from portal.jobs.models import Job
from portal.kiosk.models import Kiosk, KioskAlert, KioskHandoff, KioskVisit, KioskVisitDraft
from portal.outbox.models import OutboxMessage
from portal.payments.models import Payment
from portal.rate_limits import RateLimitCounter
from portal.records.models import RecordRead
from portal.staff.models import StaffApiToken, StaffMember, StaffRole
from portal.submissions.models import Submission, SubmissionEvent
from portal.uploads.models import Upload

__all__ = [
    "Appointment",
    "AppointmentSlot",
    "AssistHelper",
    "AssistSession",
    "AuditEntry",
    "AuditHead",
    "Bundle",
    "Job",
    "Kiosk",
    "KioskAlert",
    "KioskHandoff",
    "KioskVisit",
    "KioskVisitDraft",
    "OutboxMessage",
    "Payment",
    "RateLimitCounter",
    "RecordRead",
    "StaffApiToken",
    "StaffMember",
    "StaffRole",
    "Submission",
    "SubmissionEvent",
    "Upload",
    "WebSession",
]
