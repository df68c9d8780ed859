"""Staff pages for kiosks. Administrators: the registered terminals with their last-seen time
and state, registering the terminal the administrator is signed in on (which signs them out
and leaves the terminal holding the kiosk cookie), revoking one, and wiping a kiosk again after
a failed wipe put it out of service (docs/decisions/0048-kiosk-mode.md). Every member: the
kiosks' 職員を呼ぶ requests (only a place and a time), also shown and polled on the day view,
and marking one answered (docs/decisions/0057-kiosk-checkin-printing-help.md)."""

from __future__ import annotations

from typing import cast

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for

from portal import audit, clock
from portal.db import db
from portal.identity.sessions import ServerSession
from portal.kiosk import mode as kiosk_mode
from portal.kiosk import service as kiosks
from portal.staff import bp
from portal.urls import safe_path

MAX_LENGTH = 100


def _admin():
    member = g.current_staff
    if not member.is_admin():
        abort(404)
    return member


def _page(errors: dict[str, str] | None = None, values: dict[str, str] | None = None):
    rows = kiosks.kiosks(db.session)
    names = {k.id: k for k in rows}
    return render_template(
        "staff/kiosks.html",
        kiosks=rows,
        alerts=[(a, names.get(a.kiosk_id)) for a in kiosks.open_alerts(db.session)],
        errors=errors or {},
        values=values or {},
        reset_seconds=current_app.config["KIOSK_IDLE_RESET_SECONDS"],
    )


@bp.get("/kiosks")
def kiosks_page():
    _admin()
    return _page()


@bp.post("/kiosks/register")
def register_kiosk():
    """この端末をキオスクとして登録: run on the terminal itself by a signed-in administrator."""
    member = _admin()
    values = {k: request.form.get(k, "").strip() for k in ("name", "place")}
    errors = {}
    if not values["name"]:
        errors["name"] = "端末の名前を入力してください"
    if not values["place"]:
        errors["place"] = "設置場所を入力してください（例：本庁舎1階 市民課前）"
    for key, label in (("name", "端末の名前"), ("place", "設置場所")):
        if len(values[key]) > MAX_LENGTH:
            errors[key] = f"{label}は{MAX_LENGTH}文字以内で入力してください"
    if errors:
        return _page(errors, values), 400
    now = clock.now()
    kiosk, token = kiosks.register(
        db.session, name=values["name"], place=values["place"], actor=f"staff:{member.id}", now=now
    )
    audit.record(
        db.session,
        actor=f"staff:{member.id}",
        action="token_created",
        target=f"kiosk:{kiosk.public_id}",
        at=now,
    )
    db.session.commit()
    # The terminal is now a kiosk: the administrator's sign-in must not stay on it.
    session.end()
    response = redirect(url_for("kiosk.start"), 303)
    kiosk_mode.set_kiosk_cookie(response, token)
    return response


def _kiosk(public_id: str):
    kiosk = kiosks.by_public_id(db.session, public_id)
    if kiosk is None:
        abort(404)
    return kiosk


@bp.post("/kiosks/<public_id>/revoke")
def revoke_kiosk(public_id: str):
    member = _admin()
    kiosk = _kiosk(public_id)
    now = clock.now()
    kiosks.revoke(db.session, kiosk, actor=f"staff:{member.id}", now=now)
    audit.record(
        db.session,
        actor=f"staff:{member.id}",
        action="token_revoked",
        target=f"kiosk:{kiosk.public_id}",
        at=now,
    )
    db.session.commit()
    flash(f"「{kiosk.name}」の登録を取り消しました。この端末はキオスクとして使えなくなりました。")
    return redirect(url_for(".kiosks_page"), 303)


@bp.post("/kiosks/<public_id>/wipe")
def wipe_kiosk(public_id: str):
    """After a failed wipe: try again; the kiosk serves again only if it succeeds."""
    member = _admin()
    kiosk = _kiosk(public_id)
    files = current_app.extensions["submission_services"].files
    if kiosks.wipe_again(db.session, files, kiosk, actor=f"staff:{member.id}", now=clock.now()):
        flash(f"「{kiosk.name}」の前の利用者の情報を消去しました。端末は使える状態に戻りました。")
    else:
        flash(f"「{kiosk.name}」の消去に、また失敗しました。端末は停止したままです。")
    return redirect(url_for(".kiosks_page"), 303)


# --- 職員を呼ぶ -----------------------------------------------------------------------------------

POLL_HEADER = "X-Portal-Poll"  # the day view's script asking again: not the member's activity


def calls_context() -> dict:
    """What the calls panel (staff/_kiosk_calls.html) shows, for any page that includes it."""
    return {
        "kiosk_calls": [
            {"id": call.id, "place": kiosk.place, "name": kiosk.name, "at": call.created_at}
            for call, kiosk in kiosks.open_calls(db.session)
        ]
    }


@bp.get("/kiosk-calls")
def kiosk_calls():
    """The open help requests of every kiosk; the day view's script polls this page."""
    if request.headers.get(POLL_HEADER):
        cast(ServerSession, session).leave_untouched()
    response = current_app.make_response(
        render_template("staff/kiosk_calls.html", **calls_context())
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/kiosk-calls/<int:call_id>/answer")
def answer_kiosk_call(call_id: int):
    member = g.current_staff
    now = clock.now()
    if kiosks.answer_call(db.session, call_id, f"staff:{member.id}", now):
        audit.record(
            db.session,
            actor=f"staff:{member.id}",
            action="staff_call_answered",
            target=f"kiosk-call:{call_id}",
            at=now,
        )
        flash("呼び出しに対応済みにしました。")
    else:
        flash("この呼び出しは、すでにほかの職員が対応済みにしました。")
    db.session.commit()
    return redirect(safe_path(request.form.get("next")) or url_for(".kiosk_calls"), 303)
