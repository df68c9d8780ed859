"""The helper's and the hand-over pages of an assisted session (docs/decisions/0054).

/assist/            the helper's page: sign in with their own card, 「お手伝いを始める」, their
                    own record (dates and counts only)
/assist/welcome     after the helper's card login: recognised as a registered helper, or not
/assist/start       「お手伝いを始める」 → the hand-over before the resident's card login
/assist/consent     the resident's consent, in plain words
/assist/resident    「ここからはご本人が入力してください」 (before a PIN or a secret)
/assist/give-back   「お手伝いの方に端末をお渡しください」
/assist/end         終了 by the resident, on the shared device
/assist/consents/<id>/end   revoking from "my applications", on the resident's own device
"""

from __future__ import annotations

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
from portal.assisted import bp, mode, service
from portal.assisted.models import AssistHelper
from portal.db import db
from portal.i18n import translate
from portal.urls import safe_path

STATES = {
    "revoked": "お手伝いの方としての登録が取り消されています。",
    "expired": "お手伝いの方としての登録の有効期限が過ぎています。",
    "not_yet": "お手伝いの方としての登録は、まだ有効期間が始まっていません。",
}
DURATION_LABELS = {"1h": "1時間", "3h": "3時間", "day": "今日の終わり（23時59分）まで"}


def _signed_in_helper() -> AssistHelper | None:
    public_id = session.get(mode.HELPER_KEY)
    return service.helper_by_public_id(db.session, public_id) if public_id else None


def _refused(helper: AssistHelper | None, state: str | None):
    message = translate(
        STATES.get(
            state or "", "このマイナンバーカードの方は、お手伝いの方として市に登録されていません。"
        )
    )
    return render_template("assisted/refused.html", helper=helper, message=message), 403


def _active_helper_or_refuse():
    helper = _signed_in_helper()
    if helper is None:
        return None, redirect(url_for(".home"), 303)
    state = service.helper_state(helper, clock.today_local())
    if state != "active":
        return None, _refused(helper, state)
    return helper, None


@bp.get("/")
def home():
    if session.pop(mode.ENDED_NOTICE_KEY, False):
        flash(translate(mode.ENDED_NOTICE))
    helper = _signed_in_helper()
    if helper is None:
        return render_template("assisted/sign_in.html")
    state = service.helper_state(helper, clock.today_local())
    return render_template(
        "assisted/home.html",
        helper=helper,
        active=state == "active",
        message=translate(STATES[state]) if state in STATES else None,
        history=service.history(db.session, helper),
        # Practice is with the demo cards of the mock card service only.
        practice=current_app.config["MOCK_JPKI_ENABLED"],
    )


@bp.get("/welcome")
def welcome():
    """Back from the helper's own card login: the city's registration decides."""
    user = session.get("user")
    if not user or mode.SESSION_KEY in session:
        return redirect(url_for(".home"), 303)
    db.will_write()  # the sign-in is audited
    card = user.get("card") or {}
    helper = service.helper_for_card(db.session, card.get("name", ""), card.get("birthdate", ""))
    state = service.helper_state(helper, clock.today_local()) if helper else None
    if helper is None or state != "active":
        session.pop("user", None)  # a helper's login serves only this page
        return _refused(helper, state)
    session.pop("user", None)  # the helper never acts as a resident with their own login
    session[mode.HELPER_KEY] = helper.public_id
    session.rotate()  # type: ignore[attr-defined]  # our ServerSession (identity.sessions)
    audit.record(
        db.session,
        actor=f"helper:{helper.public_id}",
        action="sign_in",
        target=f"helper:{helper.public_id}",
        at=clock.now(),
    )
    db.session.commit()
    return redirect(url_for(".home"), 303)


@bp.post("/sign-out")
def sign_out():
    session.end()  # type: ignore[attr-defined]  # our ServerSession (identity.sessions)
    flash(translate("お手伝いの方のログインを終了しました。"))
    return redirect(url_for(".home"), 303)


@bp.post("/start")
def start():
    helper, refused = _active_helper_or_refuse()
    if refused is not None:
        return refused
    mode.drop_resident(keep_display=True)  # nothing of an earlier resident stays
    session[mode.STARTING_KEY] = True
    return redirect(url_for(".hand_over"), 303)


@bp.get("/hand-over")
def hand_over():
    """Before the resident's card login: the device goes to the resident, who types the PIN."""
    helper, refused = _active_helper_or_refuse()
    if refused is not None:
        return refused
    if not session.get(mode.STARTING_KEY):
        return redirect(url_for(".home"), 303)
    return render_template("assisted/hand_over.html", helper=helper, login=True)


def _scopes() -> tuple[list, list]:
    catalog = mode._catalog()
    procedures = [
        p for p in catalog.procedures if p.channel != "counter" and p.ended is None and p.steps
    ]
    return procedures, list(catalog.life_events)


def _scope_of(value: str) -> service.Scope | None:
    kind, _, item_id = value.partition(":")
    procedures, events = _scopes()
    if kind == "procedure":
        p = next((p for p in procedures if p.id == item_id), None)
        return service.Scope("procedure", p.id, p.title) if p else None
    if kind == "life_event":
        e = next((e for e in events if e.id == item_id), None)
        return service.Scope("life_event", e.id, e.label) if e else None
    return None


def _consent_page(helper, values, errors, status=200):
    procedures, events = _scopes()
    now = clock.now()
    return (
        render_template(
            "assisted/consent.html",
            helper=helper,
            procedures=procedures,
            events=events,
            durations={k: (v, service.expiry(k, now)) for k, v in DURATION_LABELS.items()},
            values=values,
            errors=errors,
        ),
        status,
    )


@bp.route("/consent", methods=["GET", "POST"])
def consent():
    helper, refused = _active_helper_or_refuse()
    if refused is not None:
        return refused
    user = session.get("user")
    if not session.get(mode.STARTING_KEY) or not user:
        return redirect(url_for(".home"), 303)
    if request.method == "GET":
        return _consent_page(helper, {"duration": "day"}, {})
    values = {k: request.form.get(k, "") for k in ("scope", "duration")}
    errors = {}
    scope = _scope_of(values["scope"])
    if scope is None:
        errors["scope"] = translate("お手伝いを頼む手続を選んでください")
    if values["duration"] not in service.DURATIONS:
        errors["duration"] = translate("お手伝いを頼む時間を選んでください")
    if errors or scope is None:
        return _consent_page(helper, values, errors, 400)
    now = clock.now()
    assist = service.consent(
        db.session,
        helper,
        resident_sub=user["sub"],
        scope=scope,
        duration=values["duration"],
        now=now,
    )
    db.session.commit()
    session.pop(mode.STARTING_KEY, None)
    session[mode.SESSION_KEY] = assist.public_id
    session[mode.TURN_KEY] = "resident"
    if scope.kind == "procedure":
        first = url_for("submissions.start", procedure_id=scope.id)
    else:
        first = url_for("life_events.screening", event_id=scope.id)
    return redirect(url_for(".give_back", next=first), 303)


@bp.post("/decline")
def decline():
    """The resident does not consent: their login leaves this device at once."""
    mode.drop_resident()
    flash(translate("お手伝いは始めませんでした。ご本人のログインは終了しました。"))
    return redirect(url_for(".home"), 303)


@bp.route("/resident", methods=["GET", "POST"])
def resident_turn():
    """「ここからはご本人が入力してください」: the resident types what only they may see."""
    if mode.current() is None:
        return redirect(url_for(".home"), 303)
    next_url = safe_path(request.values.get("next")) or url_for("pages.home")
    if request.method == "POST":
        session[mode.TURN_KEY] = "resident"
        return redirect(next_url, 303)
    return render_template("assisted/hand_over.html", login=False, next_url=next_url)


@bp.route("/give-back", methods=["GET", "POST"])
def give_back():
    """「お手伝いの方に端末をお渡しください」: from here the helper sees secrets masked."""
    if mode.current() is None:
        return redirect(url_for(".home"), 303)
    next_url = safe_path(request.values.get("next")) or url_for("pages.home")
    if request.method == "POST":
        session[mode.TURN_KEY] = "helper"
        return redirect(next_url, 303)
    return render_template("assisted/give_back.html", next_url=next_url)


@bp.post("/end")
def end():
    """終了 on the shared device: the consent ends and the resident leaves this browser."""
    assist = mode.current()
    if assist is not None:
        service.end(
            db.session,
            assist,
            reason="resident",
            actor=service.resident_actor(assist.resident_sub),
            now=clock.now(),
        )
        db.session.commit()
    mode.drop_resident()
    g.pop("assist", None)  # this very page is already outside the session
    return render_template("assisted/ended.html")


@bp.post("/consents/<public_id>/end")
def revoke(public_id: str):
    """Revoking a consent later, from "my applications" on the resident's own device."""
    user = session.get("user")
    assist = service.by_public_id(db.session, public_id)
    if user is None or assist is None or assist.resident_sub != user["sub"]:
        abort(404)
    if mode.helpers_turn():
        abort(404)
    service.end(
        db.session,
        assist,
        reason="resident",
        actor=service.resident_actor(assist.resident_sub),
        now=clock.now(),
    )
    db.session.commit()
    flash(translate("お手伝いの同意を取り消しました。お手伝いの方は、もうこの手続を見られません。"))
    if mode.current() is not None and mode.current() is assist:
        mode.drop_resident()
        return redirect(url_for(".home"), 303)
    return redirect(url_for("submissions.my_applications"), 303)
