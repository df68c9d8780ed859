"""The counter on the submission engine (portal.submissions.extensions): a counter clerk is a
helper kind, so an application entered at the counter says so on its status page."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.counter.confirmation import HELPER_KIND
from portal.submissions.extensions import Extensions, HelperKind


def describe(session: Session, helper_id: str) -> str | None:
    """What the resident's status page says (never the clerk's name)."""
    return "市の窓口で、お話をうかがって職員が入力しました"


def register_extensions(registry: Extensions) -> None:
    registry.add_helper_kind(HelperKind(HELPER_KIND, describe))
