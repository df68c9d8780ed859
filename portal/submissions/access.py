"""The engine's request-level helpers, public for every channel's pages: the form context of a
draft, the drafts this browser holds, the secret status link, attachments, prefill.

The resident's browser holds each draft's bearer token in the signed session cookie
(`session["drafts"][procedure_id]`); no personal data or token ever goes into a URL, except the
status page's secret link, which access logs redact.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any

from flask import Response, abort, current_app, redirect, request, send_file, session, url_for
from sqlalchemy import select

from portal import clock
from portal.catalog.schema import CatalogData, Department, Procedure
from portal.db import db
from portal.extensions import limiter
from portal.submissions import contacts, earlier, prefill, service
from portal.submissions.models import Submission
from portal.uploads.models import Upload


def catalog() -> CatalogData:
    found: CatalogData = current_app.extensions["catalog"]
    return found


def services() -> service.Services:
    found: service.Services = current_app.extensions["submission_services"]
    return found


def form_context(submission: Submission, with_form: bool = False) -> service.FormContext:
    """The context the field types read and display with; `with_form`: this request's POST."""
    ctx = service.FormContext(db.session, submission, services(), clock.now())
    if with_form:
        ctx.form, ctx.files = request.form, request.files
    return ctx


def limit(setting: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Rate-limit a view's POSTs by the setting's limit.

    A GET of the same view goes straight to it: the limit names POST only, so flask-limiter's
    check of a GET found nothing to count, at some cost on every page view (decision 0055)."""
    limited: Callable[[Callable[..., Any]], Callable[..., Any]] = limiter.limit(
        lambda: current_app.config[setting], methods=["POST"]
    )

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        checked = limited(view)

        @functools.wraps(view)  # the same qualified name: flask-limiter knows the view by it
        def either(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                return checked(*args, **kwargs)
            return view(*args, **kwargs)

        return either

    return decorator


def user() -> dict[str, Any] | None:
    found: dict[str, Any] | None = session.get("user")
    return found


def procedure_or_404(procedure_id: str) -> Procedure:
    procedure = catalog().procedure(procedure_id)
    if procedure is None:
        abort(404)
    return procedure


def department_of(submission: Submission) -> Department | None:
    return catalog().department(submission.snapshot["procedure"]["department"])


def remember_draft(procedure_id: str, token: str) -> None:
    drafts = dict(session.get("drafts", {}))
    drafts[procedure_id] = token
    session["drafts"] = drafts


def forget_draft(procedure_id: str) -> None:
    drafts = dict(session.get("drafts", {}))
    if drafts.pop(procedure_id, None) is not None:
        session["drafts"] = drafts


def draft_for(procedure_id: str) -> Submission | None:
    """This browser's draft of the procedure; for a signed-in resident whose session has ended
    and begun again, their latest draft of it (nothing typed and saved is lost to a timeout)."""
    token = session.get("drafts", {}).get(procedure_id)
    submission = service.find_by_draft_token(db.session, token)
    resident = user()
    owner = submission.owner_sub if submission is not None else None
    if owner is not None and (resident is None or resident["sub"] != owner):
        # A signed-in resident's draft opens only in their own login (decision 0045): a token
        # left in a browser where someone else is now signed in, or nobody, is dropped.
        forget_draft(procedure_id)
        submission = None
    anonymous = submission is not None and submission.owner_sub is None
    if submission is not None and anonymous and resident and service.is_draft(submission):
        # Started before logging in, in this browser: it becomes the resident's.
        service.adopt_draft(db.session, submission, resident["sub"], resident.get("person_id"))
        db.session.commit()
    if submission is None and resident:
        submission = service.owned_draft(db.session, resident["sub"], procedure_id)
        if submission is not None:
            token = service.take_over_draft(db.session, submission, clock.now())
            remember_draft(procedure_id, token)
            db.session.commit()
    return submission


def status_token(submission: Submission) -> str:
    """The token of the application's secret status link."""
    return service.status_token(current_app.config["STATUS_LINK_KEY"], submission)


def submission_by_status_token(token: str) -> Submission:
    """The submission of a secret status link. One made while signed in opens only for its
    applicant and the person it concerns: anyone else signed in gets 404, and a visitor who is
    not signed in is asked to log in first."""
    submission = service.find_by_status_token(db.session, token)
    if submission is None:
        abort(404)
    if submission.owner_sub is not None:
        resident = user()
        if resident is None:
            abort(redirect(url_for("identity.login", next=request.path)))
        if service.role_of(submission, resident["sub"], resident.get("person_id")) is None:
            abort(404)
    return submission


def no_referrer(response: Response) -> Response:
    """The secret link must not leak as a referrer, even to our own pages."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def upload_of(submission: Submission, upload_token: str) -> Upload:
    """An attachment of this submission, or 404 (a token of another submission opens nothing)."""
    upload = db.session.scalar(
        select(Upload).where(Upload.token == upload_token, Upload.submission_id == submission.id)
    )
    if upload is None:
        abort(404)
    return upload


def upload_response(upload: Upload) -> Response:
    """An attachment, always downloaded, in a sandbox."""
    data = services().files.read(db.session, upload.storage_name)
    response = send_file(
        io.BytesIO(data),
        mimetype=upload.content_type,
        as_attachment=True,
        download_name=upload.filename,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _is_own(submission: Submission, subject: prefill.Subject, resident: dict) -> bool:
    """The application is the resident's own (not for someone else): only then do answers of
    their earlier applications fill it."""
    return (
        not submission.acting_for
        and subject.typed is None
        and subject.person_id == resident.get("person_id")
    )


def prefill_signed_in(submission: Submission, subject: prefill.Subject) -> None:
    """Fill in what the signed-in resident's card and the city's records already say."""
    resident = user() or {}
    answers, sources = prefill.prefill_answers(
        service.procedure_of(submission),
        prefill.Applicant(
            card=resident.get("card", {}),
            person_id=resident.get("person_id"),
            contact=contacts.remembered(db.session, resident.get("sub")),
            my_number=resident.get("my_number"),
            earlier=(
                earlier.earlier_values(
                    db.session, resident.get("sub"), service.procedure_of(submission)
                )
                if _is_own(submission, subject, resident)
                else {}
            ),
        ),
        subject,
        current_app.extensions.get("resident_records"),
        reader=f"submission:{submission.public_id}",
        today=clock.today_local(),
        my_number_key=services().my_number_key,
    )
    service.apply_prefill(db.session, submission, answers, sources)
