"""Bundles on the submission engine, through its extension points
(portal.submissions.extensions): one signature for every document of a bundle (a signing flow),
a bundle's member drafts continued with their bundle (a draft home), and the resident's bundles
on "my applications"."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app, get_template_attribute, url_for
from markupsafe import Markup

from portal import clock
from portal.bundles import plan, service, signing
from portal.bundles.models import Bundle
from portal.db import db
from portal.localization import procedure_title, shown_event
from portal.submissions import service as submission_service
from portal.submissions.extensions import Extensions
from portal.submissions.models import Submission


def draft_home(submission: Submission) -> str | None:
    """A member draft is filled in with its bundle."""
    if submission.bundle_id is None:
        return None
    bundle = db.session.get(Bundle, submission.bundle_id)
    return url_for("bundles.overview", public_id=bundle.public_id) if bundle else None


def bundle_list(owner_sub: str, submissions: Sequence[Submission]) -> Markup | None:
    """The resident's bundles (one-stop filings of a life event) with their progress."""
    catalog, today = current_app.extensions["catalog"], clock.today_local()
    found = []
    for bundle in service.bundles_of(db.session, owner_sub):
        parts = plan.progress(db.session, catalog, bundle, today) if bundle.reference else []
        found.append(
            {
                "bundle": bundle,
                "label": shown_event(service.event_of(bundle)).label,
                "titles": [
                    procedure_title(submission_service.procedure_of(member))
                    for member in service.members_of(db.session, bundle)
                ],
                "counts": {
                    state: sum(1 for p in parts if p.state == state)
                    for state in ("done", "waiting", "todo")
                },
            }
        )
    if not found:
        return None
    macro = get_template_attribute("bundles/_my_applications.html", "bundle_list")
    fragment: Markup = macro(found)  # a macro's output is Markup, escaped by the template
    return fragment


def register_extensions(registry: Extensions) -> None:
    registry.add_signing_flow(signing.FLOW, signing.callback)
    registry.add_draft_home(draft_home)
    registry.add_application_items(bundle_list)
