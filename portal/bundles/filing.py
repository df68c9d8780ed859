"""Filing a bundle: every member at once, all or nothing (the check page and the return from
signing both end here). Callers run it inside `portal.db.retrying`, so a deadlock files it again
rather than answering 500."""

from __future__ import annotations

from flask import current_app

from portal import clock
from portal.bundles import plan, service
from portal.bundles.models import Bundle
from portal.db import db
from portal.submissions import extensions
from portal.submissions.models import Submission


def file_all(bundle: Bundle, members: list[Submission]) -> str | None:
    """File every member, or none, and commit; None on success, else the title of the member
    that failed (everything was rolled back: the drafts keep their answers)."""
    try:
        filed = service.submit(
            db.session,
            bundle,
            members,
            True,
            current_app.config["STATUS_LINK_KEY"],
            clock.today_local(),
            clock.now(),
            on_submitted=extensions.registry().submitted,
        )
    except service.MemberFailed as failed:
        db.session.rollback()
        current_app.logger.warning(
            "bundle %s not submitted: %s failed with %s",
            bundle.public_id,
            failed.procedure_id,
            type(failed.__cause__).__name__,
        )
        return failed.title
    if filed:  # not again when another request filed it first (a double click)
        plan.queue_reminders(db.session, current_app.extensions["catalog"], bundle, clock.now())
    db.session.commit()
    return None
