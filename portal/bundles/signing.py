"""One signature for every document of a bundle that needs one.

At "submit" on the bundle's check page the portal builds each signing member's canonical
document (as for a single application, portal.submissions.signing), registers the list of their
digests with the identity provider in one transaction and sends the resident to enter the
signature password once. The provider signs every digest of the list; back on /sign/callback
(shared with single applications: the provider knows one return address) each signature is
checked against its own document, kept with its member, and the bundle is filed all or nothing.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, url_for
from flask.typing import ResponseReturnValue

from portal import clock
from portal.bundles import service
from portal.bundles.filing import file_all
from portal.bundles.models import Bundle
from portal.db import db, lock_in_order, retrying
from portal.identity import signature as signatures
from portal.identity.providers import ProviderError, current_provider
from portal.submissions import service as submissions
from portal.submissions.models import Submission
from portal.submissions.signing import Document, begin_signing, failure_page, keep_signature

# The name of this signing flow in the engine's registry (extension point "sign several
# documents at once"): the engine's /sign/callback hands the resident back to `callback`.
FLOW = "bundle"


def _retry_url(public_id: str) -> str:
    return url_for("bundles.check", public_id=public_id)


def begin(bundle: Bundle, members: list[Submission]) -> ResponseReturnValue:
    """Register the digests of every signing member and send the resident to sign them."""
    documents = []
    for member in service.needs_signature(members):
        content = submissions.signed_content(db.session, member)
        title = submissions.procedure_of(member).title
        documents.append(
            {
                "public_id": member.public_id,
                "title": f"{title}（申請書）",
                "digest": signatures.document_digest(content),
            }
        )
    db.session.commit()  # no transaction stays open across calls to the provider
    state = {
        "bundle": bundle.public_id,
        "documents": [{"public_id": d["public_id"], "digest": d["digest"]} for d in documents],
    }
    return begin_signing(
        [Document(d["title"], d["digest"]) for d in documents],
        state,
        _retry_url(bundle.public_id),
        flow=FLOW,
    )


def callback(pending: dict[str, Any], user: dict[str, Any]) -> ResponseReturnValue:
    """The resident is back from signing every document of the bundle."""
    public_id = pending["bundle"]
    retry = _retry_url(public_id)
    provider = current_provider()
    try:
        signed = provider.finish_signature(pending["transaction_id"])
        anchors = provider.trust_anchors()
    except ProviderError as error:
        return failure_page(error.kind, retry, 503 if error.kind == "unreachable" else 400)
    db.will_write()
    # Keeping the signatures and filing are one unit of work, run again on a deadlock (the
    # signing service is not asked again: its answer is in hand).
    return retrying(db.session, lambda: _keep_and_file(pending, user, signed, anchors, retry))


def _keep_and_file(
    pending: dict[str, Any], user: dict[str, Any], signed, anchors, retry: str
) -> ResponseReturnValue:
    public_id = pending["bundle"]
    bundle = service.owned(db.session, user["sub"], public_id)
    if bundle is None:
        return failure_page("state", retry)
    lock_in_order(db.session, Bundle.id, [bundle.id])  # the bundle before its members
    db.session.refresh(bundle)
    if bundle.status != "draft":
        return redirect(url_for("bundles.overview", public_id=public_id))
    if signed.sub != user["sub"]:
        return failure_page("other_card", retry)
    members = {m.public_id: m for m in service.members_of(db.session, bundle)}
    now = clock.now()
    for document in pending["documents"]:
        member = members.get(document["public_id"])
        if member is None or not submissions.is_draft(member):
            return failure_page("changed", retry)
        problem = keep_signature(member, document["digest"], signed, anchors, now, bundle=public_id)
        if problem:
            return failure_page(problem, retry)
    failed = file_all(bundle, service.members_of(db.session, bundle))
    if failed is not None:
        return failure_page("bundle_failed", retry, 500)
    return redirect(url_for("bundles.overview", public_id=public_id, done=1), 303)
