"""Staff pages under /staff/: sign-in (password, then a one-time code), the department's newest
applications and one application's detail (read-only for now), revealing a masked My Number
with a reason, and, for administrators, signing a member out everywhere.

Staff sessions use their own cookie, scoped to /staff (portal.identity.sessions), so a resident's
session never reaches a staff page and a staff session never acts as a resident. The gate in
front of every page is portal.staff.access; the case page itself is rendered by
portal.staff.cases.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from portal import audit, clock
from portal.db import db
from portal.extensions import limiter
from portal.input_policy import BAD_CHARACTERS, bad_characters
from portal.staff import bp, case_service, service
from portal.staff.access import _audit, _case, _catalog
from portal.staff.cases import _detail
from portal.staff.models import ROLES, StaffMember
from portal.submissions import service as submissions

PENDING_SECONDS = 300  # between the password and the code
# One answer for every refusal at the password step, whether the login id exists, the password
# is wrong or the account is locked (decision 0045): nobody learns who has an account, or that an
# account is locked, from this page. The words cover the lockout too, for the member it is.
SIGN_IN_REFUSED = (
    "ログインIDまたはパスワードが違うか、続けて間違えたため一時的にログインできなくなっています。"
    "ロックは15分で解除されます。急ぐ場合は管理者に連絡してください"
)
LOCKED = (
    "続けて間違えたため、このアカウントは15分間ロックされています。"
    "急ぐ場合は管理者に連絡してください"
)
CODE_REFUSED = {
    "invalid": "確認コードが違います。認証アプリに表示されている6桁の数字を入力してください",
    # Only someone who gave the right password gets this far: they may learn of the lockout.
    "locked": LOCKED,
}


def _key() -> bytes:
    return current_app.extensions["submission_services"].my_number_key


def _limit():
    return limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])


@bp.route("/login", methods=["GET", "POST"])
@_limit()
def login():
    errors: dict[str, str] = {}
    login_id = request.form.get("login_id", "")
    if request.method == "POST":
        now = clock.now()
        try:
            member = service.check_password(
                db.session,
                login_id,
                request.form.get("password", ""),
                now,
                allow_demo=current_app.config["DEMO_DEPLOYMENT"],
            )
        except service.SignInRefused:
            db.session.commit()  # the failure counts and is audited
            errors["login_id"] = SIGN_IN_REFUSED
        else:
            db.session.commit()
            session["staff_pending"] = {"id": member.id, "at": now.isoformat()}
            return redirect(url_for(".code"))
    return render_template(
        "staff/login.html",
        login_id=login_id,
        errors=errors,
        error_links={name: f"f-{name}" for name in errors},
    )


@bp.route("/login/code", methods=["GET", "POST"])
@_limit()
def code():
    pending = session.get("staff_pending")
    now = clock.now()
    if not pending or (now - _parse(pending["at"])).total_seconds() > PENDING_SECONDS:
        session.pop("staff_pending", None)
        flash("時間がたったため、もう一度ログインIDとパスワードを入力してください。")
        return redirect(url_for(".login"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        member = db.session.get(StaffMember, pending["id"])
        try:
            service.check_code(db.session, member, request.form.get("code", ""), now, _key())
        except service.SignInRefused as refused:
            db.session.commit()
            if refused.reason == "locked":
                session.pop("staff_pending", None)
            errors["code"] = CODE_REFUSED[refused.reason]
        else:
            db.session.commit()
            session.pop("staff_pending", None)
            session["staff"] = {"id": member.id, "generation": member.session_generation}
            session.rotate()
            return redirect(url_for(".home"))
    return render_template(
        "staff/code.html", errors=errors, error_links={name: f"f-{name}" for name in errors}
    )


def _parse(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


@bp.post("/logout")
def logout():
    member = g.current_staff
    audit.record(
        db.session,
        actor=f"staff:{member.id}",
        action="sign_out",
        target=f"staff:{member.id}",
        at=clock.now(),
    )
    db.session.commit()
    session.end()
    return render_template("staff/logged_out.html")


@bp.get("/")
def home():
    """The newest applications of the member's departments (nothing personal in the list)."""
    member = g.current_staff
    departments = member.departments()
    rows = case_service.newest_cases(db.session, departments)
    names = {d.id: d.name for d in _catalog().departments}
    return render_template(
        "staff/home.html",
        rows=[
            {
                "submission": s,
                "title": s.snapshot["procedure"]["title"],
                "state": submissions.workflow_of(s).states[s.status],
                "department": names.get(s.department, s.department),
            }
            for s in rows
        ],
        departments=[names.get(d, d) for d in sorted(departments)],
        roles=[(ROLES[r.role], names.get(r.department, r.department)) for r in member.roles],
    )


@bp.get("/submissions/<public_id>")
def submission(public_id: str):
    case = _case(public_id)
    _audit(case, "view")
    db.session.commit()
    return _detail(case)


REASON_MIN = 4
REASON_MAX = 400


@bp.post("/submissions/<public_id>/reveal")
def reveal(public_id: str):
    """Show the case's sensitive answers (My Numbers, bank accounts, ...) in full, once, for a
    reason the member types (audited with it)."""
    case = _case(public_id)
    reason = " ".join(request.form.get("reason", "").split())
    if not REASON_MIN <= len(reason) <= REASON_MAX or bad_characters(reason):
        _audit(case, "view")
        db.session.commit()
        error = f"表示する理由を{REASON_MIN}文字以上{REASON_MAX}文字以内で入力してください"
        if bad_characters(reason):
            error = f"表示する理由に{BAD_CHARACTERS}"
        return _detail(case, errors={"reason": error}, reason=reason), 400
    procedure = submissions.procedure_of(case)
    ctx = submissions.FormContext(
        db.session, case, current_app.extensions["submission_services"], clock.now()
    )
    revealed = {
        f.label: f.field_type.reveal(f, case.answers[f.name], ctx)
        for f in procedure.fields()
        if f.sensitive and case.answers.get(f.name)
    }
    _audit(case, "reveal", reason)
    db.session.commit()
    response = current_app.make_response(_detail(case, revealed=revealed, reason=reason))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/members")
def members():
    """Administrators: the staff of their departments, and signing a member out everywhere."""
    admin = g.current_staff
    if not admin.is_admin():
        abort(404)
    rows = case_service.members_seen_by(db.session, admin)
    names = {d.id: d.name for d in _catalog().departments}
    return render_template("staff/members.html", rows=rows, roles=ROLES, names=names)


@bp.post("/members/<int:member_id>/sign-out-everywhere")
def sign_out_everywhere(member_id: int):
    admin = g.current_staff
    member = db.session.get(StaffMember, member_id)
    if (
        not admin.is_admin()
        or member is None
        or not (member.departments() & admin.departments("admin") or member.id == admin.id)
    ):
        abort(404)
    service.sign_out_everywhere(db.session, member, admin, clock.now())
    db.session.commit()
    flash(f"{member.display_name} さんを、すべての端末からサインアウトさせました。")
    if member.id == admin.id:
        return redirect(url_for(".login"))
    return redirect(url_for(".members"))


@bp.get("/preview")
def previews():
    """Staff preview of the catalog: every procedure, to open one step by step."""
    return render_template("staff/previews.html", procedures=_catalog().procedures)


@bp.get("/preview/<procedure_id>")
def preview(procedure_id: str):
    """Every step of a procedure rendered as residents see it, filled with its example answers
    (a new catalog entry is checked here before it goes live). Nothing can be submitted."""
    from portal.catalog import logic
    from portal.catalog.fields import html_id

    procedure = _catalog().procedure(procedure_id)
    if procedure is None:
        abort(404)
    today = clock.today_local()
    examples = logic.resolve_examples(procedure.example_answers, today)
    stored = {
        f.name: f.field_type.from_example(f, examples[f.name], None)
        for f in procedure.fields()
        if examples.get(f.name) is not None
    }
    steps = [
        {
            "step": step,
            "applies": logic.step_applies(step, stored, today),
            "raw": {
                f.name: f.field_type.raw_from_value(f, stored.get(f.name), None)
                for f in step.fields
            },
        }
        for step in procedure.steps
    ]
    return render_template(
        "staff/preview.html",
        procedure=procedure,
        department=_catalog().department(procedure.department),
        steps=steps,
        fee=logic.fee_amount(procedure, stored, today) if procedure.fee and stored else None,
        html_id=html_id,
    )


# The other route modules of the blueprint: importing this module (as the app factory does) adds
# every staff page to `bp`.
from portal.staff import (  # noqa: E402,F401
    appointments,
    counter,
    export_views,
    helpers,
    inbox,
    kiosk_certificates,
    kiosks,
    payments,
)
