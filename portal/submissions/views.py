"""The resident's pages of an application: start, the steps, check answers, done, save for later
and resume. Thin: find the draft, call the engine, commit, redirect. The 代理 page is in
`who`, the pages after submitting in `tracking`, the request helpers every channel uses in
`access`, the step controller in `steps` and the answers summary in `summary`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from portal import clock, kept_pages
from portal.catalog.fields import html_id
from portal.catalog.schema import Procedure, Step
from portal.db import db
from portal.i18n import translate
from portal.identity.sessions import session_seconds_left
from portal.localization import localized
from portal.qr import qr_svg
from portal.submissions import (
    bp,
    contacts,
    extensions,
    prefill,
    service,
    signing,
    steps,
    summary,
)
from portal.submissions.access import (
    catalog,
    department_of,
    draft_for,
    form_context,
    limit,
    prefill_signed_in,
    procedure_or_404,
    remember_draft,
    status_token,
    upload_of,
    upload_response,
    user,
)
from portal.submissions.models import Submission
from portal.urls import public_url_for

# The session key of a resume code tried while signed out, tried again after login.
RESUME_AFTER_LOGIN = "resume_after_login"
# A code is 12 characters (14 with hyphens); people may add spaces. Anything longer is not kept.
RESUME_CODE_MAX = 40


def status_qr(url: str, submission: Submission) -> str:
    return qr_svg(
        url,
        translate(
            "申請状況のページを開くQRコード（受付番号 %(number)s）", number=submission.reference
        ),
    )


@bp.get("/procedures/<procedure_id>")
def start(procedure_id: str) -> ResponseReturnValue:
    procedure = procedure_or_404(procedure_id)
    draft = draft_for(procedure_id)
    if draft is not None and not service.is_draft(draft):
        draft = None
    intent = session.pop("login_intent") if "login_intent" in session else None
    resident = user()
    if (
        intent is not None
        and intent[0] in ("begin", "begin-self")
        and intent[1] == request.path
        and resident is not None
        and draft is None
        and procedure.channel != "counter"
        and procedure.ended is None
    ):
        # Back from ログインして申請を始める (a POST with its CSRF token): the application starts
        # at once, without showing this page and 申請を始める again (issue 22); with
        # ログインしてご本人の申請を始める, as the resident's own application (no "who" page).
        return _begin(procedure, resident, for_self=intent[0] == "begin-self")
    return render_template(
        "submissions/start.html",
        procedure=localized(procedure),
        japanese_title=procedure.title,
        department=catalog().department(procedure.department),
        draft=draft,
    )


@bp.post("/address/postal-code")
@limit("RATELIMIT_SAVE")
def postal_lookup() -> ResponseReturnValue:
    """The postal-code look-up of an address field for the page's script: as soon as seven
    digits are typed, prefecture, city and town are filled without the 郵便番号から住所を入力する
    button (which still works without JavaScript). A POST with the page's CSRF token, so the
    postal code is never in a URL or an access log."""
    from portal.catalog.fields.composite import AddressType

    raw = {"postal_code": request.form.get("postal_code", "")[:20]}
    error = AddressType().fill_from_postal_code(raw)
    if error:
        return jsonify(error=error), 404
    return jsonify({k: raw[k] for k in ("postal_code", "prefecture", "city", "town")})


@bp.post("/procedures/<procedure_id>/start")
def begin(procedure_id: str) -> ResponseReturnValue:
    procedure = procedure_or_404(procedure_id)
    if procedure.channel == "counter":
        abort(404)
    resident = user()
    if procedure.identity_level != "none" and resident is None:
        return redirect(
            url_for("identity.login", next=url_for(".start", procedure_id=procedure_id))
        )
    return _begin(procedure, resident)


def _begin(
    procedure: Procedure, resident: dict | None, for_self: bool = False
) -> ResponseReturnValue:
    """Start a draft of the procedure for this browser (and the signed-in resident) and go to
    its first page; a procedure that may be filed for someone else asks whom it is about first,
    unless the resident already said it is their own (`for_self`: the button they pressed)."""
    procedure_id = procedure.id
    submission, token = service.start_draft(
        db.session,
        catalog(),
        procedure,
        clock.now(),
        owner_sub=resident["sub"] if resident else None,
        applicant_person_id=resident.get("person_id") if resident else None,
    )
    remember_draft(procedure_id, token)
    if resident and procedure.on_behalf and not for_self:
        db.session.commit()
        return redirect(url_for(".who", procedure_id=procedure_id))
    if resident and procedure.on_behalf:
        service.set_subject(db.session, submission, relationship="self", subject_person_id=None)
    if resident:
        prefill_signed_in(submission, prefill.Subject(resident.get("person_id"), readable=True))
    db.session.commit()
    return redirect(url_for(".step", procedure_id=procedure_id, step_id=procedure.steps[0].id))


def draft_or_redirect(procedure_id: str) -> Submission | BaseResponse:
    """The session's draft for this procedure, or a redirect response to where to go instead.

    A draft started before the catalog changed this procedure moves to the new version here, and
    the resident is taken through the steps that changed."""
    procedure_or_404(procedure_id)
    submission = draft_for(procedure_id)
    if submission is None:
        flash(
            translate(
                "入力中の申請が見つかりませんでした。最初から入力するか、再開コードをお使いください。"
            )
        )
        return redirect(url_for(".start", procedure_id=procedure_id))
    if not service.is_draft(submission):
        return redirect(url_for(".done", procedure_id=procedure_id))
    today = clock.today_local()
    changed = service.refresh_snapshot(db.session, catalog(), submission, today)
    if changed:
        db.session.commit()
        titles = translate("、").join(
            translate("「%(title)s」", title=step.title) for step in changed
        )
        flash(
            translate(
                "入力の途中で、この手続の内容が変わりました。%(titles)sをもう一度確認してください。",
                titles=titles,
            )
        )
        first = service.first_incomplete_step(submission, today)
        return redirect(_step_or_check(procedure_id, first))
    return submission


def _step_or_check(procedure_id: str, step: Step | None, returning: bool = False) -> str:
    if step is None:
        return url_for(".check", procedure_id=procedure_id)
    extra: dict[str, Any] = {"return": "check"} if returning else {}
    return url_for(".step", procedure_id=procedure_id, step_id=step.id, **extra)


@bp.route("/procedures/<procedure_id>/apply/<step_id>", methods=["GET", "POST"])
@limit("RATELIMIT_SAVE")
def step(procedure_id: str, step_id: str) -> ResponseReturnValue:
    submission = draft_or_redirect(procedure_id)
    if not isinstance(submission, Submission):
        return submission  # where to go instead
    procedure = service.procedure_of(submission)
    today = clock.today_local()
    current = procedure.step(step_id)
    if current is None:
        abort(404)
    if _needs_who(submission, procedure):
        return redirect(url_for(".who", procedure_id=procedure_id))
    detour = steps.out_of_order(submission, current, today)
    if detour is not False:
        return redirect(_step_or_check(procedure_id, detour if isinstance(detour, Step) else None))

    returning = request.args.get("return") == "check"
    unsent = _unsent_step(procedure_id, current.id) if request.method == "GET" else None
    result = steps.handle(submission, current, today)
    if result.not_editable:
        return redirect(url_for(".done", procedure_id=procedure_id))
    if result.saved:
        following = steps.next_step(submission, current.id, returning, today)
        return redirect(_step_or_check(procedure_id, following))
    if unsent is not None:
        # What was typed when the login ran out, shown again as typed (not saved yet).
        result.ctx.form = MultiDict(unsent)
        result.raw.update(service.read_step(procedure, current, result.ctx, today).raw)
        result.outcome.notice = translate(
            "ログインの有効期限が切れる前に入力していた内容を戻しました。"
            "確認して「次へ進む」を押してください。"
        )

    position, total = service.step_position(procedure, submission.answers, current, today)
    back = service.previous_step(procedure, submission.answers, current, today)
    values = steps.page_values(submission, current, result.ctx, result.raw, result.outcome, today)
    back_url = (
        url_for(".check", procedure_id=procedure_id)
        if returning
        else url_for(".step", procedure_id=procedure_id, step_id=back.id)
        if back
        else url_for(".who", procedure_id=procedure_id)
        if procedure.on_behalf and submission.acting_for
        else url_for(".start", procedure_id=procedure_id)
    )
    discard_url = _discard_url(submission)
    page_key = _step_page_key(procedure, current)

    def file_url(token: str) -> str:
        return url_for(".draft_file", procedure_id=procedure_id, upload_token=token)

    def rendering() -> str:
        return render_template(
            "submissions/step.html",
            **values,
            file_url=file_url,
            position=position,
            total=total,
            back_url=back_url,
            returning=returning,
            discard_url=discard_url,
            step_page_key=page_key,
        )

    plain = not (values["errors"] or values["notice"] or unsent is not None)
    if page_key is None or not plain or not kept_pages.plain_request():
        return rendering()
    return kept_pages.render(
        kept_pages.key_of(
            ("submissions.step", *page_key, returning, discard_url is not None, position, total)
        ),
        _step_page_slots(values, file_url, back_url, position, total, discard_url),
        rendering,
        changing={"body.seconds"},
        fixed={"step_content.position", "step_content.total"},
    )


def _step_page_slots(
    values: dict[str, Any],
    file_url: Callable[[str], str],
    back_url: str,
    position: int,
    total: int,
    discard_url: str | None,
) -> dict[str, Any]:
    """The step page's slots (portal.kept_pages), as submissions/step.html and its layout give
    them, for a page without errors or a notice: the header's and the timeout dialog's for
    someone signed in, the footer's, and the step's own content."""
    signed_in = session.get("user")
    # The template's own globals: the same functions its expressions call.
    template_globals: dict[str, Any] = current_app.jinja_env.globals
    csrf_token = template_globals["csrf_token"]
    step_fields = template_globals["step_fields"]
    return {
        "header.csrf": csrf_token,
        "header.name": lambda: signed_in["name"] if signed_in else None,
        "body.seconds": lambda: session_seconds_left(clock.now()),
        "step_content.back": back_url,
        "step_content.summary": "",
        "step_content.notice": None,
        "step_content.csrf": csrf_token,
        "step_content.fields": lambda: step_fields(
            current_app.jinja_env,
            values["fields"],
            values["locked"],
            values["shown"],
            values["prefill_notes"],
            values["department"],
            values["conditions"],
            values["shortcuts"],
            values["raw"],
            values["errors"],
            values["focus"],
            file_url,
            values["masks"],
        ),
        "step_content.total": total,
        "step_content.position": position,
        "step_content.discard": discard_url,
        "footer_nav.display": template_globals["display_settings_url"],
        "session_timeout.csrf": csrf_token,
        "session_timeout.path": request.path,
        "session_timeout.login": lambda: url_for("identity.login", next=request.path),
    }


def _step_page_key(procedure: Procedure, current: Step) -> tuple[str, str] | None:
    """The key the step page's content is kept under (decision 0081): only a draft of the
    catalog's own procedure (a draft of an earlier version renders its page every time); the
    cache empties with a new catalog."""
    if catalog().procedure(procedure.id) is not procedure:
        return None
    return (procedure.id, current.id)


def _discard_url(submission: Submission) -> str | None:
    """「この申請を削除する」 for the signed-in resident who owns this draft (portal.discard)."""
    resident = user()
    if resident is None or submission.owner_sub != resident["sub"] or submission.bundle_id:
        return None
    return url_for("discard.draft", public_id=submission.public_id)


def _needs_who(submission: Submission, procedure: Procedure) -> bool:
    """A signed-in resident must first say whom an application that allows 代理 is for."""
    resident = user()
    return bool(
        procedure.on_behalf
        and resident
        and submission.owner_sub == resident["sub"]
        and submission.acting_for is None
    )


def keep_unsent_step() -> ResponseReturnValue:
    """A step posted after the login ran out (the CSRF check failed with the session): keep the
    typed values in the new session for the same person, and ask them to log in again."""
    view_args = request.view_args or {}
    procedure_id = view_args["procedure_id"]
    step_url = url_for(".step", procedure_id=procedure_id, step_id=view_args["step_id"])
    form = {k: v for k, v in request.form.lists() if k not in ("csrf_token", "_action")}
    session["unsent_step"] = {
        "sub": getattr(session, "expired_sub", None),
        "procedure_id": procedure_id,
        "step_id": view_args["step_id"],
        "form": form,
    }
    return (
        render_template(
            "submissions/session_expired.html", login_url=url_for("identity.login", next=step_url)
        ),
        401,
    )


def _unsent_step(procedure_id: str, step_id: str) -> dict | None:
    """The values kept by keep_unsent_step, once, for the same person and page."""
    kept = session.get("unsent_step")
    resident = user()
    if not kept or not resident:
        return None
    if kept["procedure_id"] != procedure_id or kept["step_id"] != step_id:
        return None
    session.pop("unsent_step")
    return kept["form"] if kept["sub"] == resident["sub"] else None


@bp.route("/procedures/<procedure_id>/check", methods=["GET", "POST"])
@limit("RATELIMIT_SUBMIT")
def check(procedure_id: str) -> ResponseReturnValue:
    submission = draft_or_redirect(procedure_id)
    if not isinstance(submission, Submission):
        return submission  # where to go instead
    procedure = service.procedure_of(submission)
    today = clock.today_local()
    first_incomplete = service.first_incomplete_step(submission, today)
    if first_incomplete is not None:
        return redirect(_step_or_check(procedure_id, first_incomplete))
    registry = extensions.registry()
    pending = registry.pending_page(submission)
    if pending is not None:  # a channel's page before submit comes first
        return redirect(pending)

    errors: dict[str, str] = {}
    signing_needed = procedure.identity_level == "signature"
    resident = user()
    owner = resident["sub"] if resident and submission.owner_sub == resident["sub"] else None
    offered = contacts.answered(procedure, submission.answers) if owner else {}
    if request.method == "POST":
        declared = request.form.get("declaration") == "yes"
        if owner and offered and request.form.get("remember_contact") == "yes" and declared:
            # the resident's consent, given with this application: fills their next ones
            contacts.remember(db.session, owner, offered, clock.now())
        if signing_needed:
            resident = user()
            if resident is None or submission.owner_sub != resident["sub"]:
                return redirect(url_for("identity.login", next=request.path))
            if procedure.declaration and not declared:
                errors["declaration"] = translate("申請内容の確認にチェックを入れてください")
            else:
                db.session.commit()
                return signing.begin(submission, declared)
        else:
            try:
                service.submit(
                    db.session,
                    submission,
                    declared,
                    current_app.config["STATUS_LINK_KEY"],
                    today,
                    clock.now(),
                    on_submitted=registry.submitted,
                )
            except service.DeclarationMissing:
                errors["declaration"] = translate("申請内容の確認にチェックを入れてください")
            else:
                db.session.commit()
                return redirect(url_for(".done", procedure_id=procedure_id))

    return render_template(
        "submissions/check.html",
        procedure=localized(procedure),
        summary=summary.check_summary(
            submission,
            form_context(submission),
            today,
            change_url=lambda s: _step_or_check(procedure_id, s, returning=True),
            acting_change_url=url_for(".who", procedure_id=procedure_id),
            localize=True,
        ),
        signing_needed=signing_needed,
        errors=errors,
        error_links={path: html_id(path) for path in errors},
        offered_contact=offered,
        remember_checked=request.form.get("remember_contact") == "yes",
        discard_url=_discard_url(submission),
    )


@bp.get("/procedures/<procedure_id>/done")
def done(procedure_id: str) -> ResponseReturnValue:
    procedure_or_404(procedure_id)
    submission = draft_for(procedure_id)
    if submission is None:
        return redirect(url_for(".start", procedure_id=procedure_id))
    if service.is_draft(submission):
        return redirect(url_for(".check", procedure_id=procedure_id))
    token = status_token(submission)
    status_url = public_url_for(".status", token=token)
    return render_template(
        "submissions/done.html",
        procedure=localized(service.procedure_of(submission)),
        submission=submission,
        status_url=status_url,
        status_token=token,
        suggestions=_suggestions(submission),
        receipt_url=url_for(".receipt", token=token),
        qr=status_qr(status_url, submission),
        department=department_of(submission),
    )


def _suggestions(submission: Submission) -> list:
    from portal.life_events.checklist import suggestions

    return suggestions(  # the notes in the resident's language
        catalog(),
        localized(service.procedure_of(submission)),
        submission.answers,
        clock.today_local(),
    )


@bp.route("/procedures/<procedure_id>/save", methods=["GET", "POST"])
@limit("RATELIMIT_RESUME")
def save_for_later(procedure_id: str) -> ResponseReturnValue:
    """あとで続ける: a resume code (and its QR code) to continue on another day or device."""
    submission = draft_or_redirect(procedure_id)
    if not isinstance(submission, Submission):
        return submission  # where to go instead
    procedure = service.procedure_of(submission)
    code = None
    qr = None
    if request.method == "POST":
        code = service.issue_resume_code(db.session, submission, clock.now())
        db.session.commit()
        qr = qr_svg(
            public_url_for(".resume") + f"?code={code}",
            translate("入力の続きを開くQRコード（再開コード %(code)s）", code=code),
        )
    return render_template(
        "submissions/save.html",
        procedure=procedure,
        submission=submission,
        code=code,
        qr=qr,
        days=service.RESUME_DAYS,
    )


@bp.route("/resume", methods=["GET", "POST"])
@limit("RATELIMIT_RESUME")
def resume() -> ResponseReturnValue:
    """Enter a resume code (or arrive from its QR code) to continue a draft.

    A code of a signed-in resident's draft opens only in their login (decision 0045). To a
    visitor who is not signed in, such a code and an unknown one get the same answer, which
    offers to log in: the code is kept in the session, and the resume runs again after login."""
    errors: dict[str, str] = {}
    resident = user()
    code = request.values.get("code", "")
    pending = session.get(RESUME_AFTER_LOGIN) if resident and request.method == "GET" else None
    if request.method == "POST" or pending:
        if pending:
            code = session.pop(RESUME_AFTER_LOGIN)
        found = service.resume_draft(
            db.session, code, clock.now(), owner_sub=resident["sub"] if resident else None
        )
        if found is None:
            errors["code"] = translate(
                "再開コードが正しくないか、有効期限が切れています。コードを確かめてください"
            )
            if resident is None:
                # Maybe a signed-in resident's code: tried again after they log in.
                session[RESUME_AFTER_LOGIN] = code[:RESUME_CODE_MAX]
        else:
            submission, token = found
            db.session.commit()
            remember_draft(submission.procedure_id, token)
            flash(translate("保存した内容から入力を再開します。"))
            first = service.first_incomplete_step(submission, clock.today_local())
            return redirect(_step_or_check(submission.procedure_id, first))
    response = current_app.make_response(
        render_template(
            "submissions/resume.html",
            code=code[:RESUME_CODE_MAX],
            errors=errors,
            error_links={path: html_id(path) for path in errors},
            signed_in=resident is not None,
        )
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/procedures/<procedure_id>/files/<upload_token>")
def draft_file(procedure_id: str, upload_token: str) -> ResponseReturnValue:
    """A file attached to the resident's own draft (only through their session)."""
    submission = draft_for(procedure_id)
    if submission is None:
        abort(404)
    return upload_response(upload_of(submission, upload_token))
