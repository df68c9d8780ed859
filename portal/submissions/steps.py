"""The one step-page controller, for every channel that fills a draft's steps: the resident's
pages (portal.submissions.views), the counter clerk's (portal.staff.counter) and a bundle's member
pages (portal.bundles.views). Channels differ only in URLs, templates and where to go next.

A channel's view does, for one step of a draft:

    result = steps.handle(submission, current, today)      # reads a POST: action, or save
    if result.saved:      -> redirect to the next page (steps.next_step / its own order)
    if result.not_editable:-> redirect to where a submitted application is shown
    values = steps.page_values(submission, current, result.ctx, result.raw, result.outcome, today)
    render its template with **values and its own URLs

`out_of_order` says where a step opened by URL ahead of the answers goes instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import request, session
from werkzeug.datastructures import MultiDict

from portal import clock, furigana
from portal.catalog import logic
from portal.catalog.fields import html_id
from portal.catalog.schema import Field, Procedure, Step
from portal.db import db
from portal.i18n import LANGUAGES, showing_localized, translate
from portal.localization import localized
from portal.submissions import conditions, prefill, public_funds, service, shortcuts
from portal.submissions.access import department_of, form_context
from portal.submissions.models import Submission

PREFILL_NOTES = {
    prefill.CARD: "マイナンバーカードの情報から入力しました。",
    prefill.RECORDS: "市の住民記録から入力しました。",
    prefill.REMEMBERED: "前の申請で「次の申請でも使う」を選んだ連絡先です。"
    "変わっていれば直してください。",
    prefill.MOVE_NOTICE: "前の市区町村でオンラインでした転出届の情報から入力しました。",
    prefill.EARLIER: "前回の申請・届出の内容から入力しました。",
}


@dataclass
class StepResult:
    """What `handle` did with the request: `saved` (go on), `not_editable` (submitted
    meanwhile: nothing was saved), else the page to show again with `raw` and `outcome`."""

    ctx: service.FormContext
    raw: dict[str, Any]
    outcome: service.StepOutcome = field(default_factory=service.StepOutcome)
    saved: bool = False
    not_editable: bool = False


def raw_values(submission: Submission, step: Step, ctx: service.FormContext) -> dict[str, Any]:
    """The stored answers of a step's fields, as their inputs show them; a field not answered
    yet shows its catalog default (one copy)."""
    return {
        f.name: f.field_type.raw_from_value(f, submission.answers.get(f.name, f.default), ctx)
        for f in step.fields
    }


def handle(
    submission: Submission, current: Step, today: dt.date, *, languages: bool = True
) -> StepResult:
    """Read this request for one step of the draft. A GET shows the stored answers. A POST with
    an `_action` (add/remove a group item, look up an address, switch the language when
    `languages`) shows the page again as typed; any other POST reads and checks the step and,
    when it is fine, saves it and commits. Files uploaded with a POST that had errors are kept
    (committed) for the next try."""
    posted = request.method == "POST"
    action = request.form.get("_action") if posted else None
    ctx = form_context(submission, with_form=posted)
    procedure = service.procedure_of(submission)
    # The stored answers as the inputs show them, for a page shown again; a step read to be
    # saved needs them only when its checks fail (computed then, from the same answers).
    reading = posted and not action
    result = StepResult(ctx, {} if reading else raw_values(submission, current, ctx))
    key = f"{submission.id}:{current.id}"
    # Read in the chosen language (its messages name the fields as the page does); ids, rules
    # and values are the Japanese procedure's, so the stored answers are the same.
    shown, shown_step = localized_step(procedure, current)
    if not posted:
        typed = session.get(TYPED, {}).get(key)
        if typed is not None:  # a reload, or a return, after the step failed its checks
            ctx.form = MultiDict(typed)
            result.outcome = _read(submission, shown, shown_step, ctx, today)
            result.outcome.notice = translate(TYPED_NOTICE)
            result.raw.update(result.outcome.raw)
        return result
    if action:
        if languages and action.startswith("lang:") and action[5:] in LANGUAGES:
            session["lang"] = action[5:]
            shown, shown_step = localized_step(procedure, current)
        elif action in ("furigana:on", "furigana:off"):
            furigana.set_choice(action == "furigana:on")
        result.outcome = service.apply_action(shown, shown_step, ctx, action, today)
    else:
        result.outcome = _read(submission, shown, shown_step, ctx, today)
        if result.outcome.ok:
            try:
                service.save_step(
                    db.session, submission, current, result.outcome, today, clock.now()
                )
            except service.DraftNotEditable:
                db.session.rollback()
                result.not_editable = True
                return result
            db.session.commit()
            _forget_typed(key)
            result.saved = True
            return result
        result.raw = raw_values(submission, current, ctx)
        _keep_typed(key, current)
    db.session.commit()  # files uploaded with this POST are kept for the next try
    result.raw.update(result.outcome.raw)
    return result


def _read(
    submission: Submission, shown: Procedure, step: Step, ctx: service.FormContext, today: dt.date
) -> service.StepOutcome:
    """The engine's reading of the step, and the checks that read outside registers (the
    公金受取口座 is registered: decision 0076)."""
    outcome = service.read_step(shown, step, ctx, today)
    if outcome.ok:
        public_funds.check(step, outcome, submission)
    return outcome


# What was typed into a step that failed its checks, kept in the (server-side) session until the
# step is saved, so that a reload or a return to the step shows it again (issue 22). Sensitive
# fields (the My Number) are not kept: they are typed again.
TYPED = "typed_steps"
TYPED_KEEP = 5  # steps kept at most (the most recent)
TYPED_NOTICE = (
    "前に入力した内容を戻しました。まだ保存されていません。"
    "確認して、誤りを直してから「次へ進む」を押してください。"
)


def _keep_typed(key: str, step: Step) -> None:
    sensitive = [f.name for f in step.fields if f.sensitive]
    form = {
        name: values
        for name, values in request.form.lists()
        if name not in ("csrf_token", "_action")
        and not any(name == s or name.startswith(f"{s}.") for s in sensitive)
    }
    kept = {k: v for k, v in session.get(TYPED, {}).items() if k != key}
    kept[key] = form
    session[TYPED] = dict(list(kept.items())[-TYPED_KEEP:])


def _forget_typed(key: str) -> None:
    kept = session.get(TYPED)
    if kept and key in kept:
        session[TYPED] = {k: v for k, v in kept.items() if k != key}


def localized_step(procedure: Procedure, current: Step) -> tuple[Procedure, Step]:
    """The procedure and step in the chosen language (`current` may be a bundle's step holding
    only some fields: the same fields, localized)."""
    shown = localized(procedure)
    if shown is procedure:
        return procedure, current
    step = shown.step(current.id)
    if step is None:
        return shown, current
    if len(step.fields) != len(current.fields):
        names = {f.name for f in current.fields}
        step = step.model_copy(update={"fields": [f for f in step.fields if f.name in names]})
    return shown, step


def out_of_order(submission: Submission, current: Step, today: dt.date) -> Step | None | bool:
    """Skipping ahead by URL (or opening a step that no longer applies) leads back to the first
    step that still needs an answer: that step, True for the check page (every step done), or
    False when `current` may be shown.

    `current` may be shown when no step before it needs an answer (the first that does is this
    one or a later one), so only the steps before it are checked: a step's check re-reads every
    stored answer of it, and a step opened in order has all of them behind it."""
    procedure = service.procedure_of(submission)
    applicable = logic.applicable_steps(procedure, submission.answers, today)
    ids = [s.id for s in applicable]
    if current.id in ids:
        detour = _first_incomplete(applicable[: ids.index(current.id)], submission, today)
        return detour if detour is not None else False
    first_incomplete = _first_incomplete(applicable, submission, today)
    return first_incomplete if first_incomplete is not None else True


def next_step(submission: Submission, step_id: str, returning: bool, today: dt.date) -> Step | None:
    """The step after a saved one (None: the check page). Returning from the check page goes
    back there unless a step still needs an answer.

    Going on, the step after the saved one is the answer whenever any step needs an answer, so
    that step is checked first (one not gone through yet answers at once) and the others only
    when it is complete."""
    procedure = service.procedure_of(submission)
    applicable = logic.applicable_steps(procedure, submission.answers, today)
    ids = [s.id for s in applicable]
    if not returning and step_id in ids[:-1]:
        following = applicable[ids.index(step_id) + 1]
        others = [s for s in applicable if s is not following]
        if not service.step_complete(following, submission, today):
            return following
        return following if _first_incomplete(others, submission, today) is not None else None
    return _first_incomplete(applicable, submission, today)


def _first_incomplete(
    candidates: list[Step], submission: Submission, today: dt.date
) -> Step | None:
    """The first of `candidates` (applicable steps, in order) that still needs an answer:
    `service.first_incomplete_step` over steps the caller has already found."""
    for candidate in candidates:
        if not service.step_complete(candidate, submission, today):
            return candidate
    return None


def page_values(
    submission: Submission,
    current: Step,
    ctx: service.FormContext,
    raw: dict[str, Any],
    outcome: service.StepOutcome,
    today: dt.date,
) -> dict[str, Any]:
    """What a step page shows of its fields (also the member pages of a bundle, whose `current`
    holds only the fields still to ask): the template values every step template reads."""
    procedure, current = localized_step(service.procedure_of(submission), current)
    same_step = {f.name for f in current.fields}
    locked = service.locked_fields(submission)
    shown_when = conditions.page_conditions(
        current.fields, submission.answers, ctx.form, locked, today
    )
    shown = {}
    with showing_localized():  # a locked answer's chrome (dates, 続柄) in the page's language
        for name in locked & same_step:
            f = procedure.field(name)
            if f is not None:
                shown[name] = f.field_type.display(f, submission.answers.get(name), ctx)
    return dict(
        procedure=procedure,
        step=current,
        department=department_of(submission),
        locked=locked,
        prefill_notes={
            name: PREFILL_NOTES[source]
            for name, source in submission.prefilled.items()
            if name in same_step
        },
        shown=shown,
        fields=[
            public_funds.with_account(with_prefill_hint(f, submission), submission)
            for f in current.fields
            # A field whose condition depends on what may change on this same page is in the
            # page, hidden while it does not apply (conditions); the others only when they apply.
            if f.name in shown_when or logic.field_applies(f, submission.answers, today)
        ],
        conditions=shown_when,
        shortcuts={
            f.name: shortcuts.buttons(
                f, f.name, shortcuts.offered(procedure, f, submission.answers, today)
            )
            for f in current.fields
            if f.shortcuts
        },
        raw=raw,
        errors=outcome.errors,
        error_links={path: html_id(path) for path in outcome.errors},
        notice=outcome.notice,
        focus=outcome.focus,
        masks={
            f.name: f.field_type.display(f, submission.answers.get(f.name), ctx)
            for f in current.fields
            if f.type == "mynumber" and submission.answers.get(f.name)
        },
        multipart=any(f.type == "file" for f in current.fields),
    )


def with_prefill_hint(f: Field, submission: Submission) -> Field:
    """An editable prefilled field says where its value came from, in its hint (read out with
    the input)."""
    source = submission.prefilled.get(f.name)
    if source is None:
        return f
    note = translate(PREFILL_NOTES[source]) + translate("違っている場合は直してください。")
    return f.model_copy(update={"hint": f"{note}{f.hint or ''}"})
