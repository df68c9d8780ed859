"""The kiosk's pages (/kiosk) and where a handed-over draft continues (/continue). Thin: the
request rules are in portal.kiosk.mode, the decisions in portal.kiosk.service."""

from __future__ import annotations

from typing import cast

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

from portal import audit, clock
from portal.appointments import service as appointments
from portal.catalog.fields import html_id
from portal.db import db
from portal.i18n import LANGUAGES, translate
from portal.identity.sessions import ServerSession
from portal.kiosk import bp, handoff_bp, service
from portal.kiosk.mode import current_kiosk, current_visit, out_of_service
from portal.kiosk.models import KioskAlert
from portal.localization import procedure_title
from portal.qr import qr_svg
from portal.security import format_short_code
from portal.submissions import access
from portal.submissions import service as engine
from portal.submissions.models import Submission
from portal.urls import public_url_for, safe_path


@bp.before_request
def _registered_kiosks_only() -> ResponseReturnValue | None:
    """Any other browser learns what a kiosk is, and gets nothing of one."""
    if current_kiosk() is None:
        status = 200 if request.endpoint == "kiosk.start" else 403
        return render_template("kiosk/about.html"), status
    return None


def _files():
    return current_app.extensions["submission_services"].files


@bp.get("/")
def start() -> ResponseReturnValue:
    """The start screen: nothing of an earlier visit, only that it was wiped (and when). In a
    visit it is shown again only once a language was chosen on it (the tiles in that language);
    otherwise the visit's menu."""
    visit = current_visit()
    if visit is not None and "lang" not in session:
        return redirect(url_for(".menu"), 303)
    kiosk = current_kiosk()
    assert kiosk is not None
    services = current_app.config["KIOSK_SERVICES"]
    wiped = kiosk.last_wiped_at if visit is None else None
    return render_template(
        "kiosk/start.html",
        kiosk=kiosk,
        wiped_at=clock.to_local(wiped) if wiped else None,
        services=services,
    )


# What a start-screen tile begins a visit with: the page it opens.
BEGINS = {
    "procedures": ".menu",
    "checkin": ".checkin",
    "certificates": ".certificates",
    "display": "pages.display_settings",
}


def _begin_visit() -> None:
    """A new visit in a new, empty server-side session (none if one is live)."""
    kiosk = current_kiosk()
    assert kiosk is not None
    if current_visit() is None:
        visit = service.start_visit(db.session, kiosk, clock.now())
        db.session.commit()
        session.clear()
        session[service.SESSION_KEY] = visit.public_id
        cast(ServerSession, session).rotate()  # a new token for a new resident


@bp.post("/visit")
def begin() -> ResponseReturnValue:
    """手続をする, 予約の受付: a new visit, then the page the tile names. A language button
    (`lang`) begins the visit in that language and shows the start screen again; the choice is
    the visit's session's, so it ends with the visit (decision 0057)."""
    _begin_visit()
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
        return redirect(url_for(".start"), 303)
    return redirect(url_for(BEGINS.get(request.form.get("service", ""), ".menu")), 303)


@bp.get("/procedures")
def menu() -> ResponseReturnValue:
    catalog = access.catalog()
    procedures = [catalog.procedure(p) for p in current_app.config["KIOSK_PROCEDURES"]]
    return render_template(
        "kiosk/menu.html",
        procedures=[p for p in procedures if p is not None],
        resident=access.user(),
    )


def _unfinished() -> list[Submission]:
    visit = current_visit()
    assert visit is not None
    return service.visit_drafts(db.session, visit)


@bp.route("/end", methods=["GET", "POST"])
def end() -> ResponseReturnValue:
    """終了: what will be deleted (and the hand-over for a signed-in resident), then the wipe."""
    visit = current_visit()
    assert visit is not None
    if request.method == "POST":
        ok = service.wipe_or_alert(db.session, _files(), visit.id, clock.now(), "ended")
        session.clear()
        if not ok:
            return out_of_service()
        return redirect(url_for(".start"), 303)
    resident = access.user()
    return render_template(
        "kiosk/end.html",
        drafts=_unfinished(),
        resident=resident,
        handoff=session.get("kiosk_handoff"),
        minutes=current_app.config["KIOSK_HANDOFF_MINUTES"],
    )


@bp.post("/handoff/<public_id>")
def hand_over(public_id: str) -> ResponseReturnValue:
    """続きはスマートフォンで: a one-time code for a draft of the signed-in resident."""
    visit, kiosk, resident = current_visit(), current_kiosk(), access.user()
    assert visit is not None and kiosk is not None
    submission = next((s for s in _unfinished() if s.public_id == public_id), None)
    if submission is None or resident is None:
        abort(404)
    now = clock.now()
    try:
        code, handoff = service.hand_over(
            db.session,
            visit,
            kiosk,
            submission,
            resident["sub"],
            now,
            current_app.config["KIOSK_HANDOFF_MINUTES"],
        )
    except service.KioskError:
        abort(404)
    db.session.commit()
    drafts = dict(session.get("drafts", {}))
    drafts.pop(submission.procedure_id, None)
    session["drafts"] = drafts
    # Shown on this screen until the visit ends (the session row goes with the visit).
    session["kiosk_handoff"] = {
        "code": service.format_code(code),
        "title": procedure_title(engine.procedure_of(submission)),
        "place": handoff.place,
        "started": clock.to_local(handoff.started_at).strftime("%H:%M"),
        "expires": clock.to_local(handoff.expires_at).strftime("%H:%M"),
    }
    return redirect(url_for(".handoff_shown"), 303)


@bp.get("/handoff")
def handoff_shown() -> ResponseReturnValue:
    shown = session.get("kiosk_handoff")
    if not shown:
        return redirect(url_for(".end"), 303)
    redeem_url = public_url_for("kiosk_handoff.redeem")
    url = redeem_url + "?code=" + shown["code"].replace("-", "")
    return render_template(
        "kiosk/handoff.html",
        handoff=shown,
        redeem_url=redeem_url,
        qr=qr_svg(
            url,
            translate("続きをスマートフォンで開くQRコード（コード %(code)s）", code=shown["code"]),
        ),
    )


# --- 予約の受付（チェックイン） ------------------------------------------------------------

CHECKIN_EMPTY = "予約票の受付コード（8文字）を入力するか、予約票のQRコードを読み取ってください"
CHECKIN_UNKNOWN = (
    "この受付コードの予約は見つかりません。予約票の受付コード（8文字）を確かめて、"
    "もう一度入力してください"
)
CHECKIN_CANCELLED = "この予約は取り消されています。職員にお声がけください"
SLIP_KEY = "kiosk_slip"


def _checkin_refusal(appointment, now) -> str | None:
    refusal = appointments.check_in_refusal(appointment, now)
    if refusal == appointments.CANCELLED_TICKET:
        return translate(CHECKIN_CANCELLED)
    if refusal == appointments.OTHER_DAY:
        day = appointment.starts_at.astimezone(clock.TOKYO)
        if day < now:
            return translate(
                "この予約の日（%(month)d月%(day)d日）は過ぎています。職員にお声がけください",
                month=day.month,
                day=day.day,
            )
        return translate(
            "この予約は本日ではありません（%(month)d月%(day)d日の予約です）。予約の日にお越しください",
            month=day.month,
            day=day.day,
        )
    return None


@bp.route("/checkin", methods=["GET", "POST"])
@access.limit("RATELIMIT_BOOKING")
def checkin() -> ResponseReturnValue:
    """予約の受付: the ticket's short code typed, or its QR code typed by a keyboard-wedge
    scanner, marks the appointment arrived (the counter's check-in) and gives a queue number."""
    kiosk = current_kiosk()
    assert kiosk is not None
    code = request.form.get("code", "")[:100]
    errors: dict[str, str] = {}
    if request.method == "POST":
        now = clock.now()
        appointment = appointments.by_ticket(db.session, code, clock.today_local())
        if not code.strip():
            errors["code"] = translate(CHECKIN_EMPTY)
        elif appointment is None:
            errors["code"] = translate(CHECKIN_UNKNOWN)
        elif refusal := _checkin_refusal(appointment, now):
            errors["code"] = refusal
        else:
            number = appointments.check_in(db.session, appointment, now)
            if "kiosk" not in appointment.details:  # the day view says where they checked in
                appointment.details = {**appointment.details, "kiosk": kiosk.place}
            db.session.commit()
            counter = access.catalog().counter(appointment.counter_id)
            session[SLIP_KEY] = {
                "number": number,
                "counter": counter.name if counter else "",
                "code": format_short_code(
                    appointments.checkin_code(
                        current_app.config["SECRET_KEY"], appointment.public_id
                    )
                ),
                "time": clock.to_local(now).strftime("%H:%M"),
            }
            return redirect(url_for(".slip"), 303)
    status = 400 if errors else 200
    return (
        render_template(
            "kiosk/checkin.html",
            code=code,
            errors=errors,
            error_links={path: html_id(path) for path in errors},
        ),
        status,
    )


@bp.get("/checkin/slip")
def slip() -> ResponseReturnValue:
    """The queue number to print: the number, the counter, the time and an opaque code only."""
    shown = session.get(SLIP_KEY)
    if not shown:
        return redirect(url_for(".checkin"), 303)
    return render_template("kiosk/slip.html", slip=shown)


@bp.get("/print.css")
def print_css() -> ResponseReturnValue:
    """The receipt printer's paper (PORTAL_KIOSK_PAPER_WIDTH_MM) for the kiosk's slips."""
    width = current_app.config["KIOSK_PAPER_WIDTH_MM"]
    css = render_template("kiosk/print.css", width=width, margin=3)
    return current_app.response_class(css, mimetype="text/css")


# --- 職員を呼ぶ ---------------------------------------------------------------------------------

CALL_KEY = "kiosk_call"


@bp.post("/help")
def call_staff() -> ResponseReturnValue:
    """職員を呼ぶ: a help request carrying only this kiosk (staff see its place); from the start
    screen it begins a visit, so that what follows is wiped like any visit."""
    kiosk = current_kiosk()
    assert kiosk is not None
    _begin_visit()
    now = clock.now()
    call, new = service.call_staff(db.session, kiosk, now)
    if new:
        audit.record(
            db.session,
            actor="anonymous",
            action="staff_called",
            target=f"kiosk:{kiosk.public_id}",
            at=now,
        )
    db.session.commit()
    session[CALL_KEY] = call.id
    return redirect(url_for(".help_called"), 303)


@bp.get("/help")
def help_called() -> ResponseReturnValue:
    """The call's state as staff left it: waiting, or answered (a member is on the way)."""
    call = db.session.get(KioskAlert, session.get(CALL_KEY) or 0)
    kiosk = current_kiosk()
    if call is None or kiosk is None or call.kiosk_id != kiosk.id:
        return redirect(url_for(".menu"), 303)
    return render_template(
        "kiosk/help.html",
        called_at=clock.to_local(call.created_at),
        answered=call.resolved_at is not None,
    )


@bp.get("/time-left")
def time_left() -> ResponseReturnValue:
    """How long the visit has before the reset, by the server's clock (not activity)."""
    visit = current_visit()
    assert visit is not None
    reset = current_app.config["KIOSK_IDLE_RESET_SECONDS"]
    return jsonify(seconds_left=service.seconds_left(visit, clock.now(), reset))


@bp.post("/continue")
def keep() -> ResponseReturnValue:
    """続ける: activity (mode counted this request); the new time left, or back to the page."""
    visit = current_visit()
    assert visit is not None
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        # Only a path on this site (decision 0044), never an echo of what was posted.
        return redirect(safe_path(request.form.get("next")) or url_for(".menu"), 303)
    reset = current_app.config["KIOSK_IDLE_RESET_SECONDS"]
    return jsonify(seconds_left=service.seconds_left(visit, clock.now(), reset))


# --- on the resident's own phone -----------------------------------------------------------------

HANDOFF_KEY = "kiosk_handoff_code"
REFUSED = (
    "コードが正しくないか、有効期限が切れているか、すでに使われています。"
    "キオスクで入力を始めたご本人のマイナンバーカードでログインしているかも確かめてください"
)


@handoff_bp.route("", methods=["GET", "POST"])
@access.limit("RATELIMIT_RESUME")
def redeem() -> ResponseReturnValue:
    """The code from the kiosk (typed, or from its QR code) opens the draft, only after the
    same resident's card login; once."""
    if "code" in request.args:  # from the QR code: keep it out of the address bar and logs
        session[HANDOFF_KEY] = request.args["code"][:32]
        return redirect(url_for(".redeem"), 303)
    resident = access.user()
    code = request.form.get("code", session.get(HANDOFF_KEY, ""))
    errors: dict[str, str] = {}
    if request.method == "POST" and resident is not None:
        found = service.redeem(db.session, code, resident["sub"], clock.now())
        if found is None:
            db.session.rollback()
            errors["code"] = translate(REFUSED)
        else:
            submission, token = found
            db.session.commit()
            session.pop(HANDOFF_KEY, None)
            access.remember_draft(submission.procedure_id, token)
            flash(translate("キオスク端末で入力した内容から、続きを入力できます。"))
            first = engine.first_incomplete_step(submission, clock.today_local())
            if first is None:
                return redirect(url_for("submissions.check", procedure_id=submission.procedure_id))
            return redirect(
                url_for("submissions.step", procedure_id=submission.procedure_id, step_id=first.id)
            )
    response = current_app.make_response(
        render_template(
            "kiosk/redeem.html",
            resident=resident,
            code=code,
            errors=errors,
            error_links={path: html_id(path) for path in errors},
        )
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
