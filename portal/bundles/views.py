"""/bundles/<id>: one-stop filing of a life event (portal.bundles.service).

The resident starts a bundle from the checklist of a life event (portal.life_events.views),
answers the shared questions once, then only what each chosen procedure still needs, checks
everything on one page, signs once and files every procedure together. The bundle's page then
shows its progress, the one payment, the one counter booking and the visit plan.

Every page needs the signed-in resident who started the bundle; anyone else gets 404.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup

from portal import clock, furigana
from portal.appointments import service as appointments
from portal.bundles import plan, service, signing
from portal.bundles.filing import file_all
from portal.bundles.models import Bundle
from portal.catalog import logic
from portal.catalog.fields import html_id
from portal.catalog.schema import Step
from portal.db import db, retrying
from portal.extensions import limiter
from portal.i18n import LANGUAGES, current_language, showing_localized, translate
from portal.localization import (
    localized,
    localized_counter,
    procedure_title,
    shown_event,
    shown_shared_step,
)
from portal.payments import service as payments
from portal.qr import qr_svg
from portal.submissions import access, conditions, prefill, steps
from portal.submissions import service as submissions
from portal.submissions.models import Submission
from portal.submissions.summary import SummaryGroup, SummaryRow, answer_groups, rows_of

bp = Blueprint("bundles", __name__, url_prefix="/bundles")

DECLARATION_ERROR = "申請内容の確認にチェックを入れてください"


def _limit(setting: str):
    return limiter.limit(lambda: current_app.config[setting], methods=["POST"])


def _user() -> dict | None:
    return session.get("user")


def _bundle_or_404(public_id: str) -> Bundle:
    user = _user()
    bundle = service.owned(db.session, user["sub"], public_id) if user else None
    if bundle is None:
        abort(404)
    return bundle


def _login_first():
    """Bundle pages are for the signed-in resident who started the bundle."""
    if _user() is None:
        return redirect(url_for("identity.login", next=request.path))
    return None


def start_bundle(event, screening: dict, procedure_ids: list[str]):
    """Called by the checklist page: start the bundle and go to its first question."""
    user = _user()
    now, today = clock.now(), clock.today_local()
    catalog = current_app.extensions["catalog"]
    bundle, members = service.start(
        db.session,
        catalog,
        event,
        screening,
        procedure_ids,
        now,
        owner_sub=user["sub"],
        person_id=user.get("person_id"),
    )
    subject = prefill.Subject(user.get("person_id"), readable=True)
    for member in members:
        access.prefill_signed_in(member, subject)
    answers, sources = prefill.prefill_fields(
        service.shared_fields(bundle),
        event.label,
        prefill.Applicant(card=user.get("card", {}), person_id=user.get("person_id")),
        subject,
        current_app.extensions.get("resident_records"),
        reader=f"bundle:{bundle.public_id}",
        today=today,
    )
    service.apply_shared_prefill(db.session, bundle, answers, sources)
    # What the screening and the prefilled shared answers already say goes in now (the pages
    # ahead are counted from it).
    service.apply_fills(db.session, bundle, members, today, now)
    db.session.commit()
    return redirect(_next_url(bundle), 303)


def _next_url(bundle: Bundle) -> str:
    today, now = clock.today_local(), clock.now()
    members = service.members_of(db.session, bundle)
    page = service.next_page(db.session, bundle, members, today, now)
    db.session.commit()  # steps counted as done without a page
    return _page_url(bundle, page)


def _page_url(bundle: Bundle, page: service.Page) -> str:
    if page.kind == "shared":
        return url_for("bundles.shared", public_id=bundle.public_id, step_id=page.step.id)
    if page.kind == "member":
        return url_for(
            "bundles.member",
            public_id=bundle.public_id,
            procedure_id=page.submission.procedure_id,
            step_id=page.step.id,
        )
    return url_for("bundles.check", public_id=bundle.public_id)


def _open_draft(public_id: str):
    """(bundle, None) for a bundle still being filled in, or (None, where to go instead).
    Every page of a bundle being filled in may write, GETs too (steps counted as done)."""
    db.will_write()
    bundle = _bundle_or_404(public_id)
    if bundle.status != "draft":
        return None, redirect(url_for("bundles.overview", public_id=bundle.public_id))
    return bundle, None


def _returning() -> bool:
    return request.args.get("return") == "check"


def _after_save(bundle: Bundle) -> str:
    if _returning():
        members = service.members_of(db.session, bundle)
        page = service.next_page(db.session, bundle, members, clock.today_local(), clock.now())
        db.session.commit()
        return _page_url(bundle, page)
    return _next_url(bundle)


def _pages(bundle: Bundle, today: dt.date) -> list[tuple[str, str, str]]:
    """Every page of the bundle in order, as (kind, procedure id or "", step id)."""
    pages = [("shared", "", step.id) for step in service.shared_steps(bundle, today)]
    for member in service.members_of(db.session, bundle):
        for step in service.member_pages(bundle, member, today):
            pages.append(("member", member.procedure_id, step.id))
    return pages


def _position_and_back(bundle: Bundle, key: tuple[str, str, str], today: dt.date):
    pages = _pages(bundle, today)
    index = pages.index(key) if key in pages else 0
    if _returning():
        back = url_for("bundles.check", public_id=bundle.public_id)
    elif index == 0:
        back = url_for("life_events.checklist_page", event_id=bundle.life_event)
    else:
        kind, procedure_id, step_id = pages[index - 1]
        back = (
            url_for("bundles.shared", public_id=bundle.public_id, step_id=step_id)
            if kind == "shared"
            else url_for(
                "bundles.member",
                public_id=bundle.public_id,
                procedure_id=procedure_id,
                step_id=step_id,
            )
        )
    return index + 1, len(pages), back


class _SharedContext(submissions.FormContext):
    """The form context of a shared step: its previous answers are the bundle's."""

    bundle: Bundle | None = None

    @property
    def previous(self) -> dict:
        return service.context_of(self.bundle)


@bp.route("/<public_id>/shared/<step_id>", methods=["GET", "POST"])
@_limit("RATELIMIT_SAVE")
def shared(public_id: str, step_id: str):
    elsewhere = _login_first()
    if elsewhere:
        return elsewhere
    bundle, elsewhere = _open_draft(public_id)
    if elsewhere:
        return elsewhere
    today = clock.today_local()
    current = service.shared_step(bundle, step_id, today)
    if current is None:
        abort(404)
    event = service.event_of(bundle)
    members = service.members_of(db.session, bundle)
    ctx = _SharedContext(db.session, members[0], access.services(), clock.now())
    ctx.bundle = bundle
    raw = {
        f.name: f.field_type.raw_from_value(f, bundle.shared.get(f.name), ctx)
        for f in current.fields
    }
    outcome = submissions.StepOutcome()
    if request.method == "POST":
        ctx.form, ctx.files = request.form, request.files
        action = request.form.get("_action")
        if action:
            if action.startswith("lang:") and action[5:] in LANGUAGES:
                session["lang"] = action[5:]
            elif action in ("furigana:on", "furigana:off"):
                furigana.set_choice(action == "furigana:on")
            outcome = _shared_action(shown_shared_step(event, current), ctx, action, today)
        else:
            # Read with the page's labels (its messages name them); same names and values.
            outcome = submissions.read_fields(shown_shared_step(event, current), ctx, today)
            if outcome.ok:
                try:
                    service.save_shared(
                        db.session, bundle, current, outcome.values, members, today, clock.now()
                    )
                except submissions.DraftNotEditable:
                    db.session.rollback()
                    return redirect(url_for("bundles.overview", public_id=bundle.public_id))
                db.session.commit()
                return redirect(_after_save(bundle), 303)
        raw.update(outcome.raw)
    position, total, back = _position_and_back(bundle, ("shared", "", current.id), today)
    shown = shown_shared_step(event, current)
    return _render_step(
        bundle,
        event_label=shown_event(event).label,
        heading_context=translate("まとめて申請（共通の質問）"),
        step=shown,
        fields=shown.fields,
        raw=raw,
        outcome=outcome,
        locked=set(),
        prefill_notes={
            name: steps.PREFILL_NOTES[source] for name, source in bundle.shared_prefilled.items()
        },
        position=position,
        total=total,
        back_url=back,
        procedure=None,
        department=None,
        shown={},
        conditions=conditions.page_conditions(
            shown.fields, service.context_of(bundle), ctx.form, (), today
        ),
        masks={},
        file_url=lambda token: "",
    )


def _shared_action(step: Step, ctx, action: str, today: dt.date) -> submissions.StepOutcome:
    """Add/remove a group item or look up an address on a shared step (nothing is saved)."""
    outcome = submissions.read_fields(step, ctx, today)
    return submissions.apply_action(None, step, ctx, action, today, read=outcome)


def _render_step(bundle: Bundle, *, event_label: str, heading_context: str, **values):
    outcome = values.pop("outcome")
    return render_template(
        "bundles/step.html",
        bundle=bundle,
        event_label=event_label,
        heading_context=heading_context,
        errors=outcome.errors,
        error_links={path: html_id(path) for path in outcome.errors},
        notice=outcome.notice,
        focus=outcome.focus,
        multipart=any(f.type == "file" for f in values["fields"]),
        returning=_returning(),
        **values,
    ), (422 if outcome.errors else 200)


def _member_or_404(bundle: Bundle, procedure_id: str) -> Submission:
    member = next(
        (m for m in service.members_of(db.session, bundle) if m.procedure_id == procedure_id),
        None,
    )
    if member is None:
        abort(404)
    return member


@bp.route("/<public_id>/apply/<procedure_id>/<step_id>", methods=["GET", "POST"])
@_limit("RATELIMIT_SAVE")
def member(public_id: str, procedure_id: str, step_id: str):
    elsewhere = _login_first()
    if elsewhere:
        return elsewhere
    bundle, elsewhere = _open_draft(public_id)
    if elsewhere:
        return elsewhere
    submission = _member_or_404(bundle, procedure_id)
    procedure = submissions.procedure_of(submission)
    today = clock.today_local()
    whole = procedure.step(step_id)
    if whole is None or not submissions.is_draft(submission):
        abort(404)
    asked = service.asked_fields(bundle, submission, whole, today)
    hidden = {f.name for f in whole.fields} - {f.name for f in asked}
    if not asked or set(logic.check_errors(whole, submission.answers, today)) & hidden:
        asked = whole.fields  # an answer from the shared questions does not fit here: show it
    current = whole.model_copy(update={"fields": asked})
    result = steps.handle(submission, current, today)
    if result.not_editable:
        return redirect(url_for("bundles.overview", public_id=bundle.public_id))
    if result.saved:
        return redirect(_after_save(bundle), 303)
    outcome = result.outcome
    if {path.split(".")[0] for path in outcome.errors} & hidden:
        current = whole  # the error is on a field the page did not show: show them all
        result.raw = {**steps.raw_values(submission, whole, result.ctx), **outcome.raw}
    raw = result.raw
    page = steps.page_values(submission, current, result.ctx, raw, outcome, today)
    position, total, back = _position_and_back(bundle, ("member", procedure_id, step_id), today)
    shown_procedure, shown_step = steps.localized_step(procedure, current)
    return _render_step(
        bundle,
        event_label=shown_event(service.event_of(bundle)).label,
        heading_context=shown_procedure.title,
        step=shown_step,
        fields=page["fields"],
        raw=raw,
        outcome=outcome,
        locked=page["locked"],
        prefill_notes=page["prefill_notes"],
        shown=page["shown"],
        conditions=page["conditions"],
        masks=page["masks"],
        procedure=shown_procedure,
        department=page["department"],
        position=position,
        total=total,
        back_url=back,
        file_url=lambda token: url_for(
            "bundles.member_file",
            public_id=bundle.public_id,
            procedure_id=procedure_id,
            upload_token=token,
        ),
    )


@bp.get("/<public_id>/files/<procedure_id>/<upload_token>")
def member_file(public_id: str, procedure_id: str, upload_token: str):
    """A file attached to one of the resident's bundle applications."""
    elsewhere = _login_first()
    if elsewhere:
        return elsewhere
    bundle = _bundle_or_404(public_id)
    submission = _member_or_404(bundle, procedure_id)
    return access.upload_response(access.upload_of(submission, upload_token))


# --- the check page and submitting --------------------------------------------------------------


def _shared_summary(bundle: Bundle, today: dt.date) -> list[SummaryGroup]:
    with showing_localized():  # answers' chrome (はい, dates) in the resident's language
        return _shared_groups(bundle, today)


def _shared_groups(bundle: Bundle, today: dt.date) -> list[SummaryGroup]:
    groups = []
    members = service.members_of(db.session, bundle)
    ctx = access.form_context(members[0])
    answers = service.context_of(bundle)
    event = shown_event(service.event_of(bundle))
    used = service.used_names(service.spec_of(bundle), bundle.procedures)
    screened = [f for f in event.screening.fields if f.name in used] if event.screening else []
    if event.screening and screened:  # answers of the first questions, in the applications
        again = url_for("life_events.screening", event_id=event.id)
        groups.append(
            SummaryGroup(
                "1",
                event.screening.title,
                [
                    SummaryRow(f.label, f.field_type.display(f, answers.get(f.name), ctx))
                    for f in screened
                ],
                note=Markup('<p class="small">{} <a href="{}">{}</a></p>').format(
                    translate(
                        "最初の質問の答えです。変えるときは、もう一度まとめて申請を始めてください。"
                    ),
                    again,
                    translate("質問に答え直す"),
                ),
            )
        )
    for step in service.shared_steps(bundle, today):
        step = shown_shared_step(event, step)
        groups.append(
            SummaryGroup(
                str(len(groups) + 1),
                step.title,
                rows_of(step.fields, answers, ctx),
                url_for(
                    "bundles.shared",
                    public_id=bundle.public_id,
                    step_id=step.id,
                    **{"return": "check"},
                ),
            )
        )
    return groups


def _member_summary(bundle: Bundle, submission: Submission, today: dt.date) -> list[SummaryGroup]:
    """A member's answers the resident gave on its own pages, by step."""
    return answer_groups(
        submission,
        access.form_context(submission),
        today,
        change_url=lambda step: url_for(
            "bundles.member",
            public_id=bundle.public_id,
            procedure_id=submission.procedure_id,
            step_id=step.id,
            **{"return": "check"},
        ),
        skip=service.filled_names(bundle, submission, today),
        omit_empty=True,
        localize=True,
    )


@bp.route("/<public_id>/check", methods=["GET", "POST"])
@_limit("RATELIMIT_SUBMIT")
def check(public_id: str):
    elsewhere = _login_first()
    if elsewhere:
        return elsewhere
    bundle, elsewhere = _open_draft(public_id)
    if elsewhere:
        return elsewhere
    today, now = clock.today_local(), clock.now()
    members = service.members_of(db.session, bundle)
    page = service.next_page(db.session, bundle, members, today, now)
    db.session.commit()
    if page.kind != "check":
        return redirect(_page_url(bundle, page))
    signing_needed = service.needs_signature(members)
    errors: dict[str, str] = {}
    failed = None
    if request.method == "POST":
        declared = request.form.get("declaration") == "yes"
        if not declared:
            errors["declaration"] = translate(DECLARATION_ERROR)
        elif signing_needed:
            return signing.begin(bundle, members)
        else:
            failed = retrying(db.session, lambda: file_all(bundle, members))
            if failed is None:
                done = url_for("bundles.overview", public_id=bundle.public_id, done=1)
                return redirect(done, 303)
    fees = [(m, submissions.procedure_of(m), _fee(m, today)) for m in members]
    return (
        render_template(
            "bundles/check.html",
            bundle=bundle,
            event=shown_event(service.event_of(bundle)),
            shared_summary=_shared_summary(bundle, today),
            members=[
                {
                    "submission": m,
                    "procedure": localized(submissions.procedure_of(m)),
                    "summary": _member_summary(bundle, m, today),
                    "signature": m in signing_needed,
                }
                for m in members
            ],
            fees=[(localized(procedure), fee) for _, procedure, fee in fees if fee],
            total_fee=sum(fee or 0 for _, _, fee in fees),
            signing_needed=bool(signing_needed),
            errors=errors,
            error_links={path: html_id(path) for path in errors},
            failed=failed,
        ),
        422 if errors or failed else 200,
    )


def _fee(submission: Submission, today: dt.date) -> int | None:
    return logic.fee_amount(submissions.procedure_of(submission), submission.answers, today)


@bp.get("/<public_id>")
def overview(public_id: str):
    """The bundle's page: its reference, the progress of every part, the one payment, the
    one counter booking and the visit plan."""
    elsewhere = _login_first()
    if elsewhere:
        return elsewhere
    db.will_write()  # a bundle still being filled in: its next page may count steps as done
    bundle = _bundle_or_404(public_id)
    if bundle.status == "draft":
        return redirect(_next_url(bundle))
    return render_template(
        "bundles/overview.html",
        **_plan_context(bundle),
        just_done=request.args.get("done") == "1",
        status_url=lambda s: url_for("submissions.status", token=access.status_token(s)),
    )


def _plan_context(bundle: Bundle) -> dict:
    catalog = current_app.extensions["catalog"]
    progress = plan.progress(db.session, catalog, bundle, clock.today_local())
    visit = plan.visit_of(db.session, catalog, bundle, progress)
    unpaid = [
        p.submission
        for p in progress
        if p.submission is not None and payments.payable(p.submission)
    ]
    booking_url = None
    if visit.booking is not None:
        booking_url = url_for(
            "appointments.counter",
            counter_id=visit.booking.counter.id,
            service=visit.booking.services,
            bundle=bundle.public_id,
        )
    ticket = None
    if visit.appointment is not None:
        token = appointments.ticket_token(
            current_app.config["SECRET_KEY"], visit.appointment.public_id
        )
        ticket = qr_svg(token, translate("予約票のQRコード（窓口で読み取ります）"))
    return dict(
        bundle=bundle,
        event=shown_event(service.event_of(bundle)),
        progress=progress,
        counts={
            state: sum(1 for p in progress if p.state == state)
            for state in ("done", "waiting", "todo")
        },
        visit=_shown_visit(visit),
        booking_url=booking_url,
        manage_url=(
            url_for(
                "appointments.manage",
                token=appointments.manage_token(
                    current_app.config["SECRET_KEY"], visit.appointment.public_id
                ),
            )
            if visit.appointment
            else None
        ),
        unpaid=unpaid,
        unpaid_titles=[procedure_title(submissions.procedure_of(s)) for s in unpaid],
        unpaid_total=sum(payments.fee_of(s) for s in unpaid),
        ticket=ticket,
    )


def _shown_visit(visit: plan.Visit) -> plan.Visit:
    """The visit as the page shows it: counters, procedures and what to bring in the resident's
    language (the same stops, in the same order)."""
    if current_language() == "ja":
        return visit
    stops = []
    for stop in visit.stops:
        procedures = [localized(p) for p in stop.procedures]
        bring: list[str] = []
        for procedure in procedures:
            bring.extend(b for b in procedure.what_you_need if b not in bring)
        shown = localized_counter(stop.counter)
        stops.append(dataclasses.replace(stop, counter=shown, procedures=procedures, bring=bring))
    booking = None
    if visit.booking is not None:
        booking = next(s for s in stops if s.counter.id == visit.booking.counter.id)
    return dataclasses.replace(visit, stops=stops, booking=booking)


@bp.get("/<public_id>/plan")
def visit_plan(public_id: str):
    """The printable visit plan: counters in order, what to bring, the booking's QR ticket."""
    elsewhere = _login_first()
    if elsewhere:
        return elsewhere
    bundle = _bundle_or_404(public_id)
    if bundle.status == "draft":
        abort(404)
    return render_template("bundles/plan.html", **_plan_context(bundle))
