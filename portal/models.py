"""Every model of the portal, imported in one place for Alembic and the tests."""

from portal.submissions.models import Submission, SubmissionEvent
from portal.uploads.models import Upload

__all__ = ["Submission", "SubmissionEvent", "Upload"]
