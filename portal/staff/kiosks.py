"""Staff pages for kiosks (administrators): the registered terminals with their last-seen time
and state, registering the terminal the administrator is signed in on (which signs them out
and leaves the terminal holding the kiosk cookie), revoking one, and wiping a kiosk again after
a failed wipe put it out of service (docs/decisions/0048-kiosk-mode.md)."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for

from portal import audit, clock
from portal.db import db
from portal.kiosk import mode as kiosk_mode
from portal.kiosk import service as kiosks
from portal.staff import bp

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
