"""Practice mode (練習) for a スマホ教室, on the one submission engine
(docs/decisions/0056-assisted-sessions-finished.md).

A registered helper starts a class (「練習を始める」); participants open its link (or QR code) on
their own phones and practise any online procedure with the demo cards: the same pages, checks
and card login as the real thing, with 「練習」 on every page. The engine is extended, not copied:

- a draft started in a practice browser is marked with the helper kind "practice" (its
  `entered_by`, right after the engine's start page made it);
- a before-submit page (extension point 1) takes the submit of a practice draft (the check
  page's POST, the signature too) to 「練習はここまでです」, which deletes the draft with its
  files: nothing reaches the city, nothing stays;
- ending the class (the helper) deletes every practice draft of the class still there, and a
  class past its end (the end of the day) is ended by the next request of any of its browsers.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.assisted import bp, mode, service
from portal.assisted.models import AssistHelper, PracticeClass
from portal.db import db, write_intent
from portal.i18n import translate
from portal.qr import qr_svg
from portal.submissions import extensions
from portal.submissions.access import catalog, forget_draft, services
from portal.submissions.extensions import BeforeSubmitPage, Extensions, HelperKind
from portal.submissions.models import Submission
from portal.submissions.service import find_by_draft_token
from portal.urls import public_url_for

PRACTICE_KEY = "practice"  # the class's public id, in a helper's or a participant's browser
KIND = "practice"  # Submission.entered_by "practice:<class public id>"


# --- the class ----------------------------------------------------------------------------------


def live_class(public_id: str | None, now: dt.datetime) -> PracticeClass | None:
    if not public_id:
        return None
    found = db.session.scalar(select(PracticeClass).where(PracticeClass.public_id == public_id))
    if found is None or found.ended_at is not None:
        return None
    if now >= found.expires_at:
        end_class(db.session, found, now)
        db.session.commit()
        return None
    return found


def practice_drafts(session_: Session, practice: PracticeClass) -> list[Submission]:
    return list(
        session_.scalars(
            select(Submission).where(Submission.entered_by == f"{KIND}:{practice.public_id}")
        )
    )


def discard(session_: Session, submission: Submission, files: Any = None) -> None:
    """Delete a practice draft with its files, events and everything that points at it."""
    from portal.retention.service import delete_draft

    delete_draft(session_, files or services().files, submission.id)


def end_class(
    session_: Session, practice: PracticeClass, now: dt.datetime, files: Any = None
) -> int:
    """End the class: every practice draft of it is deleted. How many were."""
    drafts = practice_drafts(session_, practice)
    for draft in drafts:
        discard(session_, draft, files)
    practice.ended_at = now
    return len(drafts)


def expired_classes_duty(_should_stop=None) -> str | None:
    """The worker's `practice-classes` duty (portal/jobs/schedule.py): a class past its end
    (the end of its day) that no browser of it asked about since is ended here, its drafts
    deleted: nothing of a スマホ教室 stays overnight."""
    assert db.session_factory is not None, "Database.init_app() was not called"
    files = current_app.extensions["submission_services"].files
    now = clock.now()
    intent = write_intent.set(True)
    try:
        with db.session_factory() as session_:
            over = session_.scalars(
                select(PracticeClass).where(
                    PracticeClass.ended_at.is_(None), PracticeClass.expires_at <= now
                )
            ).all()
            deleted = sum(end_class(session_, practice, now, files) for practice in over)
            session_.commit()
    finally:
        write_intent.reset(intent)
    if not over:
        return None
    return f"practice: {len(over)} class(es) ended, {deleted} draft(s) deleted"


def current() -> PracticeClass | None:
    found: PracticeClass | None = g.get("practice")
    return found


def is_practice(submission: Submission) -> bool:
    return (submission.entered_by or "").startswith(f"{KIND}:")


# --- the engine's extension points ---------------------------------------------------------------


def _describe(_session: Session, _class_id: str) -> str | None:
    return translate("スマホ教室の練習（市には送信されません）")


def _submitting_practice(submission: Submission) -> bool:
    """The submit (the check page's POST) of a practice draft: never reaches the engine's submit."""
    return is_practice(submission) and has_request_context() and request.method == "POST"


def register_extensions(registry: Extensions) -> None:
    registry.add_helper_kind(HelperKind(KIND, _describe))
    registry.add_before_submit(
        BeforeSubmitPage(
            name="practice",
            applies=_submitting_practice,
            done=lambda _submission: False,
            url=lambda s: url_for("assisted.practice_finish", procedure_id=s.procedure_id),
        )
    )


# --- every request of a practice browser ------------------------------------------------------


def _before_request() -> Any:
    public_id = session.get(PRACTICE_KEY)
    if not public_id or request.endpoint in mode.FREE_ENDPOINTS:
        return None
    practice = live_class(public_id, clock.now())
    if practice is None:
        _leave()
        flash(translate("練習は終わりました。入力した内容は消去しました。"))
        return redirect(url_for("assisted.practice_home"), 303)
    g.practice = practice
    return None


def _after_request(response: Response) -> Response:
    """A draft the engine just started in a practice browser is a practice draft."""
    practice = current()
    if practice is None or request.endpoint != "submissions.begin":
        return response
    procedure_id = (request.view_args or {}).get("procedure_id")
    token = session.get("drafts", {}).get(procedure_id)
    draft = find_by_draft_token(db.session, token) if token else None
    if draft is not None and draft.entered_by is None:
        extensions.mark_helped(draft, KIND, practice.public_id)
        db.session.commit()
    return response


def _context() -> dict[str, Any]:
    practice = current()
    return {"practice_frame": {"until": practice.expires_at} if practice else None}


def _leave() -> None:
    """This browser leaves the class: its login and drafts go with it."""
    helper = session.get(mode.HELPER_KEY)
    session.clear()
    if helper:
        session[mode.HELPER_KEY] = helper
    session.rotate()  # type: ignore[attr-defined]  # our ServerSession (identity.sessions)


def init_app(app: Flask) -> None:
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.context_processor(_context)


# --- pages -------------------------------------------------------------------------------------


def _procedures() -> list:
    return [
        p for p in catalog().procedures if p.channel != "counter" and p.ended is None and p.steps
    ]


@bp.post("/practice/start")
def practice_start():
    """The helper starts a class: this browser is in it, and its link is shown to the group."""
    public_id = session.get(mode.HELPER_KEY)
    helper = service.helper_by_public_id(db.session, public_id) if public_id else None
    if helper is None or service.helper_state(helper, clock.today_local()) != "active":
        return redirect(url_for(".home"), 303)
    if not current_app.config["MOCK_JPKI_ENABLED"]:
        abort(404)  # practice is with the demo cards only
    now = clock.now()
    practice = PracticeClass(
        public_id=secrets.token_hex(16),
        helper_id=helper.id,
        started_at=now,
        expires_at=service.end_of_day(now),
    )
    db.session.add(practice)
    db.session.commit()
    mode.drop_resident()
    session[PRACTICE_KEY] = practice.public_id
    return redirect(url_for(".practice_home"), 303)


@bp.get("/practice")
def practice_home():
    """The class's page: the procedures to practise, and for the helper the class's link."""
    practice = current()
    if practice is None:
        return render_template("assisted/practice.html", practice=None)
    helper = db.session.get(AssistHelper, practice.helper_id)
    runs_helper = session.get(mode.HELPER_KEY) == (helper.public_id if helper else None)
    join = public_url_for(".practice_join", public_id=practice.public_id)
    return render_template(
        "assisted/practice.html",
        practice=practice,
        procedures=_procedures(),
        runs_helper=runs_helper,
        join_url=join if runs_helper else None,
        qr=qr_svg(join, translate("練習に参加するためのQRコード")) if runs_helper else None,
    )


@bp.get("/practice/join/<public_id>")
def practice_join(public_id: str):
    """A participant's phone joins the class (from the link or the QR code)."""
    practice = live_class(public_id, clock.now())
    if practice is None:
        abort(404)
    if session.get(PRACTICE_KEY) != practice.public_id:
        _leave()  # nothing of an earlier login or draft in the practice
        session[PRACTICE_KEY] = practice.public_id
    return redirect(url_for(".practice_home"), 303)


@bp.get("/practice/done/<procedure_id>")
def practice_finish(procedure_id: str):
    """「練習はここまでです」: the practice draft is deleted; nothing was sent to the city."""
    practice = current()
    if practice is None:
        return redirect(url_for(".practice_home"), 303)
    token = session.get("drafts", {}).get(procedure_id)
    draft = find_by_draft_token(db.session, token) if token else None
    procedure = catalog().procedure(procedure_id)
    if procedure is None:
        abort(404)
    if draft is not None and draft.entered_by == f"{KIND}:{practice.public_id}":
        discard(db.session, draft)
        practice.runs += 1
        db.session.commit()
    forget_draft(procedure_id)
    return render_template("assisted/practice_done.html", procedure=procedure)


@bp.post("/practice/end")
def practice_end():
    """The helper ends the class (a participant leaves it): everything typed in it is deleted."""
    practice = current()
    if practice is not None:
        helper = db.session.get(AssistHelper, practice.helper_id)
        if helper is not None and session.get(mode.HELPER_KEY) == helper.public_id:
            end_class(db.session, practice, clock.now())
        else:  # a participant leaves: what this phone typed goes now
            for token in session.get("drafts", {}).values():
                draft = find_by_draft_token(db.session, token)
                if draft is not None and draft.entered_by == f"{KIND}:{practice.public_id}":
                    discard(db.session, draft)
        db.session.commit()
    _leave()
    flash(translate("練習を終わりました。入力した内容は消去しました。"))
    return redirect(url_for(".practice_home"), 303)
