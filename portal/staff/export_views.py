"""Staff pages for exports (routes on the staff blueprint: the staff sign-in and the 404-for-others
rule apply): the export page (a procedure of the member's departments and a period), the CSV
download, and the printable view of one case.

The export form is a GET whose parameters are a procedure id and two dates, never personal data,
so a logged URL tells nothing about a resident. A procedure of another department is the same
404 as everything else a member may not see. Every CSV is audited (who, which procedure and
period, how many rows) and so is every print view (a look at the case, like the case page).
"""

from __future__ import annotations

from flask import abort, current_app, g, render_template, request

from portal import audit, clock
from portal.db import db
from portal.staff import bp, exports
from portal.staff.access import WRITING_GETS, _audit, _case
from portal.submissions import service as submissions

PERIOD_ERRORS = {
    ("from", "format"): "開始日を、2026-04-01 や 令和8年4月1日 の形で、ある日付で入力してください",
    ("to", "format"): "終了日を、2026-04-30 や 令和8年4月30日 の形で、ある日付で入力してください",
    ("to", "order"): "終了日は、開始日と同じ日か、それより後の日にしてください",
}

# These GETs write an audit entry (see WRITING_GETS in portal.staff.access).
WRITING_GETS.update({"staff.export_csv", "staff.submission_print"})


def _catalog():
    return current_app.extensions["catalog"]


def _key() -> bytes:
    return current_app.extensions["submission_services"].my_number_key


def _page(form: dict | None = None, errors: dict | None = None, status: int = 200):
    """The export form: empty (this month so far), or as sent with its errors."""
    if form is None:
        today = clock.today_local()
        form = {"procedure": "", "from": today.replace(day=1).isoformat(), "to": today.isoformat()}
    return (
        render_template(
            "staff/exports.html",
            procedures=exports.procedures_of(_catalog(), g.current_staff.departments()),
            form=form,
            errors=errors or {},
            error_links={name: f"f-{name}" for name in errors or {}},
            max_rows=exports.MAX_CSV_ROWS,
        ),
        status,
    )


@bp.get("/exports")
def exports_page():
    """Choose a procedure and a period to download its applications as CSV."""
    return _page()


@bp.get("/exports/submissions.csv")
def export_csv():
    """The CSV of one procedure's applications in a period; the form again when it is wrong."""
    form = {name: request.args.get(name, "") for name in ("procedure", "from", "to")}
    if not form["procedure"]:
        return _page(form, {"procedure": "出力する手続を選んでください"}, 400)
    procedure = _catalog().procedure(form["procedure"])
    if procedure is None or procedure.department not in g.current_staff.departments():
        abort(404)
    period, problems = exports.parse_period(form["from"], form["to"])
    if period is None:
        errors = {name: PERIOD_ERRORS[name, problem] for name, problem in problems.items()}
        return _page(form, errors, 400)
    found = exports.count(db.session, procedure.id, period)
    if found > exports.MAX_CSV_ROWS:
        message = (
            f"この期間の申請は{found:,}件あり、一度に出力できる{exports.MAX_CSV_ROWS:,}件を"
            "超えています。期間を短くしてください"
        )
        return _page(form, {"from": message}, 400)
    rows = exports.submissions(db.session, procedure.id, period)
    body = exports.csv_bytes(db.session, procedure, rows, _key())
    audit.record(
        db.session,
        actor=f"staff:{g.current_staff.id}",
        action="export",
        target=f"procedure:{procedure.id}",
        department=procedure.department,
        reason=f"CSV {period.describe()} {len(rows)}件",
        at=clock.now(),
    )
    db.session.commit()
    filename = f"{procedure.id}_{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    response = current_app.response_class(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/submissions/<public_id>/print")
def submission_print(public_id: str):
    """One case laid out for paper (the same authorization and audit as the case page)."""
    from portal.submissions.access import form_context
    from portal.submissions.signing import verification
    from portal.submissions.summary import answer_groups

    case = _case(public_id)
    _audit(case, "view")
    db.session.commit()
    return render_template(
        "staff/submission_print.html",
        submission=case,
        procedure=submissions.procedure_of(case),
        department=_catalog().department(case.department),
        state=submissions.workflow_of(case).states[case.status],
        payment=exports.PAYMENT_LABELS.get(case.payment_status, ""),
        summary=(
            [] if case.purged_at else answer_groups(case, form_context(case), clock.today_local())
        ),
        verification=None if case.purged_at else verification(case),
        printed_at=clock.now(),
    )
