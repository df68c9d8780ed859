"""The kiosk on the submission engine (portal.submissions.extensions): a draft started at a
kiosk is marked with the helper kind "kiosk" (so no card login elsewhere takes it over:
`owned_draft` leaves helpers' drafts alone), and while it waits for its 「続きはスマートフォンで」
code its home is the page where the code is typed (so "my applications" does not list it)."""

from __future__ import annotations

from flask import url_for
from sqlalchemy.orm import Session

from portal.kiosk.service import HELPER_KIND, pending_handoff
from portal.submissions.extensions import Extensions, HelperKind
from portal.submissions.models import Submission


def describe(session: Session, helper_id: str) -> str | None:
    return "市のキオスク端末で、ご本人が入力しました"


def draft_home(submission: Submission) -> str | None:
    if pending_handoff(submission):
        return url_for("kiosk_handoff.redeem")
    return None


def register_extensions(registry: Extensions) -> None:
    registry.add_helper_kind(HelperKind(HELPER_KIND, describe))
    registry.add_draft_home(draft_home)
