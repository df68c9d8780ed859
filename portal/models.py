"""Every model of the portal, imported in one place for Alembic and the tests."""

from portal.identity.models import WebSession
from portal.mock_jpki.models import (
    MockAccessToken,
    MockAuthorizationCode,
    MockCard,
    MockSignTransaction,
)
from portal.records.models import RecordRead
from portal.submissions.models import Submission, SubmissionEvent
from portal.uploads.models import Upload

__all__ = [
    "MockAccessToken",
    "MockAuthorizationCode",
    "MockCard",
    "MockSignTransaction",
    "RecordRead",
    "Submission",
    "SubmissionEvent",
    "Upload",
    "WebSession",
]
