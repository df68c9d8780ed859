"""Assisted sessions on the submission engine (portal.submissions.extensions):

- an application submitted during a session is marked with the helper kind "helper" (the
  consent's public id), described on the status page and the staff case page as who helped,
  from which organisation, with the consent's time and scope;
- the answers of `sensitive` fields are masked while the helper holds the device;
- "my applications" lists the resident's consents still open, each with an end button.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import get_template_attribute, has_request_context, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session

from portal import clock
from portal.assisted import mode, service
from portal.assisted.models import AssistHelper
from portal.db import db
from portal.submissions import extensions
from portal.submissions.access import status_token
from portal.submissions.extensions import Extensions, HelperKind, Submitted
from portal.submissions.models import Submission


def describe(session_: Session, assist_id: str) -> str | None:
    assist = service.by_public_id(session_, assist_id)
    if assist is None:
        return None
    helper = session_.get(AssistHelper, assist.helper_id)
    if helper is None:
        return None
    consented = clock.to_local(assist.consented_at)
    until = clock.to_local(assist.expires_at)
    return (
        f"{helper.name}さん（{helper.organisation}）がお手伝いしました"
        f"（ご本人の同意：{consented:%Y年%m月%d日 %H時%M分}、{assist.scope_title}について、"
        f"{until:%H時%M分}まで）"
    )


def mark_assisted(event: Submitted) -> None:
    """Submitted in a live session by the resident who consented: record who helped."""
    if not has_request_context():
        return
    assist = mode.current()
    if assist is None or assist.resident_sub != event.submission.owner_sub:
        return
    extensions.mark_helped(event.submission, service.HELPER_KIND, assist.public_id)
    # Its status link and its page on "my applications" are the session's too (the done page
    # shows the link to the helper, who may note it): closed to the helper after the end.
    mode.touch(assist, url_for("submissions.status", token=status_token(event.submission)))
    mode.touch(assist, url_for("submissions.my_application", public_id=event.submission.public_id))


def masked(submission: Submission) -> bool:
    return has_request_context() and mode.helpers_turn()


def open_consents(owner_sub: str, submissions: Sequence[Submission]) -> Markup | None:
    consents = service.open_sessions_of(db.session, owner_sub, clock.now())
    if not consents or mode.helpers_turn():
        return None
    helpers = {a.id: db.session.get(AssistHelper, a.helper_id) for a in consents}
    fragment: Markup = get_template_attribute("assisted/_my_consents.html", "open_consents")(
        consents, helpers
    )
    return fragment


def register_extensions(registry: Extensions) -> None:
    registry.add_helper_kind(HelperKind(service.HELPER_KIND, describe))
    registry.add_after_submit(mark_assisted)
    registry.add_answer_mask(masked)
    registry.add_application_items(open_consents)
