"""Resident pages for booking a visit to a city-hall counter, at any hour.

/appointments/                         counters that take appointments (and the resident's own)
/appointments/<counter>                what for (services, people), then the month calendar
/appointments/<counter>/<day>          free times of the day and contact details; POST books
/appointments/manage/<token>           the booking: ticket (QR), .ics, reschedule, cancel

Everything works without JavaScript: the calendar is a table of links, the times are radio
buttons. What the resident chose travels in the query string (service ids, people, the
procedure and the application it comes from): nothing personal is ever in a URL. The manage
token is a bearer secret in the path, sent with Referrer-Policy no-referrer.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from babel.dates import format_date
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select

from portal import clock
from portal.appointments import messages, service
from portal.appointments.models import Appointment
from portal.bundles import service as bundles
from portal.bundles.models import Bundle
from portal.catalog.schema import Counter
from portal.clock import TOKYO
from portal.db import db, retried_view
from portal.extensions import limiter
from portal.i18n import FOREIGN, _babel_locale, current_language, translate
from portal.input_policy import BAD_CHARACTERS, NAME_MAX, bad_characters, plain
from portal.localization import localized_booking_values
from portal.qr import qr_svg
from portal.security import format_short_code
from portal.submissions import service as submissions
from portal.urls import public_url_for

bp = Blueprint("appointments", __name__, url_prefix="/appointments")

WEEKDAYS_JA = "月火水木金土日"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIMITS = {"name": NAME_MAX, "email": 254, "phone": 20, "note": 400}


def _render(template: str, **values) -> str:
    """A booking page: counters and services in the resident's language (decision 0072)."""
    return render_template(template, **localized_booking_values(values))


def _catalog():
    return current_app.extensions["catalog"]


def _user() -> dict | None:
    return session.get("user")


def day_label(day: dt.date) -> str:
    """Month, day and weekday in the page's language ("4月1日（月）", "Mon, April 1")."""
    lang = current_language()
    if lang in FOREIGN:
        return format_date(day, format="EEE, MMMM d", locale=_babel_locale(lang))
    return f"{day.month}月{day.day}日（{WEEKDAYS_JA[day.weekday()]}）"


def date_label(day: dt.date) -> str:
    """The year too ("2024年4月1日（月）", "Mon, April 1, 2024")."""
    lang = current_language()
    if lang in FOREIGN:
        return format_date(day, format="EEE, MMMM d, y", locale=_babel_locale(lang))
    return f"{day.year}年{day_label(day)}"


def weekday_label(day: dt.date) -> str:
    lang = current_language()
    if lang in FOREIGN:
        return format_date(day, format="EEE", locale=_babel_locale(lang))
    return WEEKDAYS_JA[day.weekday()]


def weekday_names() -> list[tuple[str, str]]:
    """Monday to Sunday: (abbreviation, full name) in the page's language."""
    lang = current_language()
    monday = dt.date(2024, 1, 1)
    if lang in FOREIGN:
        locale = _babel_locale(lang)
        return [
            (
                format_date(monday + dt.timedelta(days=n), format="EEE", locale=locale),
                format_date(monday + dt.timedelta(days=n), format="EEEE", locale=locale),
            )
            for n in range(7)
        ]
    return [(w, f"{w}曜日") for w in WEEKDAYS_JA]


def month_label(day: dt.date, with_year: bool = False) -> str:
    """ "4月" / "2024年4月", "April" / "April 2024"."""
    lang = current_language()
    if lang in FOREIGN:
        pattern = "LLLL y" if with_year else "LLLL"
        return format_date(day, format=pattern, locale=_babel_locale(lang))
    return f"{day.year}年{day.month}月" if with_year else f"{day.month}月"


def time_label(value: dt.datetime) -> str:
    local = value.astimezone(TOKYO)
    if current_language() in FOREIGN:
        return f"{local.hour}:{local.minute:02d}"
    return f"{local.hour}時{local.minute:02d}分"


def span_label(start: dt.datetime, end: dt.datetime) -> str:
    local = start.astimezone(TOKYO)
    return translate(
        "%(day)s %(start)sから%(end)sまで",
        day=date_label(local.date()),
        start=time_label(start),
        end=time_label(end),
    )


@bp.app_template_global()
def appointment_labels() -> dict:
    return {
        "day": day_label,
        "date": date_label,
        "weekday": weekday_label,
        "weekdays": weekday_names,
        "month": month_label,
        "time": time_label,
        "span": span_label,
    }


def _counter_or_404(counter_id: str) -> Counter:
    counter = _catalog().counter(counter_id)
    if counter is None or counter.booking is None:
        abort(404)
    return counter


def _people() -> int:
    try:
        return int(request.values.get("people", "1"))
    except ValueError:
        return 0


def _carry(visit: service.Visit | None = None) -> dict:
    """The query parameters that travel from page to page (never anything personal)."""
    carry: dict = {}
    if visit is not None:
        carry["service"] = [s.id for s in visit.services]
        carry["people"] = visit.people
    else:  # only ids and numbers travel on, never what someone put in a link (decision 0044)
        carry["service"] = [s for s in request.values.getlist("service") if plain(s)]
        people = request.values.get("people", "1")
        carry["people"] = people if people.isascii() and people.isdigit() else "1"
    for key in ("procedure", "application", "bundle"):
        if request.values.get(key) and plain(request.values[key]):
            carry[key] = request.values[key]
    return carry


def _origin() -> dict:
    """The procedure (and the resident's application) the booking comes from, if any."""
    origin: dict = {}
    procedure = _catalog().procedure(request.values.get("procedure", ""))
    if procedure is not None:
        origin["procedure"] = procedure
    user = _user()
    public_id = request.values.get("application", "")
    if public_id and user:
        application = submissions.visible(db.session, user["sub"], user.get("person_id"), public_id)
        if application is not None and application.submitted_at is not None:
            origin["application"] = application
            origin.setdefault("procedure", submissions.procedure_of(application))
    bundle_id = request.values.get("bundle", "")
    if bundle_id and user:
        bundle = bundles.owned(db.session, user["sub"], bundle_id)
        if bundle is not None and bundle.reference:
            origin["bundle"] = bundle
    return origin


def _month_start(now: dt.datetime) -> dt.date:
    text = request.args.get("month", "")
    today = now.astimezone(TOKYO).date()
    try:
        year, month = (int(part) for part in text.split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def _shift_month(month: dt.date, delta: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + delta
    return dt.date(index // 12, index % 12 + 1, 1)


def _weeks(days: list[tuple[dt.date, str]]) -> list[list[tuple[dt.date, str] | None]]:
    """Monday-first weeks of the month for the calendar table (None pads the edges)."""
    cells: list[tuple[dt.date, str] | None] = [None] * days[0][0].weekday() + list(days)
    cells += [None] * (-len(cells) % 7)
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def _calendar(visit: service.Visit, now: dt.datetime, month: dt.date) -> dict:
    today = now.astimezone(TOKYO).date()
    last_day = today + dt.timedelta(days=visit.counter.booking.horizon_days)
    month = min(max(month, today.replace(day=1)), last_day.replace(day=1))
    days = service.month(db.session, visit, month, now)
    return {
        "month": month,
        "weeks": _weeks(days),
        "any_open": any(status == "open" for _, status in days),
        "previous": _shift_month(month, -1) if month > today.replace(day=1) else None,
        "next": _shift_month(month, 1) if month < last_day.replace(day=1) else None,
    }


@bp.get("/")
def index():
    user = _user()
    mine = []
    if user:
        mine = _owned(user)
    return _render(
        "appointments/index.html",
        counters=service.bookable_counters(_catalog()),
        mine=mine,
    )


def _owned(user: dict) -> list[dict]:
    now = clock.now()
    rows = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.owner_sub == user["sub"],
            Appointment.status == service.BOOKED,
            Appointment.starts_at > now - dt.timedelta(hours=12),
        )
        .order_by(Appointment.starts_at)
    )
    secret = current_app.config["SECRET_KEY"]
    return [
        {
            "appointment": a,
            "counter": _catalog().counter(a.counter_id),
            "url": url_for(".manage", token=service.manage_token(secret, a.public_id)),
        }
        for a in rows
    ]


@bp.get("/<counter_id>")
def counter(counter_id: str):
    counter = _counter_or_404(counter_id)
    now = clock.now()
    chosen = request.args.getlist("service")
    origin = _origin()
    if not chosen and "procedure" in origin and origin["procedure"].appointment:
        chosen = [origin["procedure"].appointment.service]
    visit = service.visit_of(counter, chosen, _people()) if chosen else None
    errors = {}
    if "people" in request.args or "service" in request.args:
        if not chosen:
            errors["service"] = translate("用件を1つ以上選んでください")
        elif visit is None:
            errors["service"] = translate(
                "用件または人数の選び方が正しくありません。選び直してください"
            )
    return _render(
        "appointments/counter.html",
        counter=counter,
        chosen=chosen,
        people=_people() or 1,
        visit=visit,
        origin=origin,
        errors=errors,
        cal=_calendar(visit, now, _month_start(now)) if visit else None,
        carry=_carry(visit),
        day_link=lambda d: url_for(
            ".day", counter_id=counter.id, day=d.isoformat(), **_carry(visit)
        ),
        month_link=lambda m: url_for(
            ".counter", counter_id=counter.id, month=m.strftime("%Y-%m"), **_carry(visit)
        ),
    )


def _day_or_404(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(404)


def _contact_defaults() -> dict:
    user = _user() or {}
    return {"name": user.get("name", ""), "email": "", "phone": "", "note": ""}


def _read_contact() -> tuple[dict, dict]:
    form = {key: unicodedata.normalize("NFKC", request.form.get(key, "")).strip() for key in LIMITS}
    form["time"] = request.form.get("time", "")
    errors = {}
    if not form["time"]:
        errors["time"] = translate("時間を選んでください")
    if not form["name"]:
        errors["name"] = translate("お名前を入力してください")
    if form["email"] and not EMAIL.match(form["email"]):
        errors["email"] = translate(
            "メールアドレスの形式が正しくありません（例：isumi@example.jp）"
        )
    elif not form["email"] and not _user():
        errors["email"] = translate(
            "メールアドレスを入力してください。予約の確認と、前日のお知らせを送ります"
        )
    if form["phone"] and not re.fullmatch(r"[0-9-]{10,13}", form["phone"]):
        errors["phone"] = translate(
            "電話番号は数字とハイフンで入力してください（例：0470-62-1111）"
        )
    for key, limit in LIMITS.items():
        if bad_characters(form[key]):
            errors[key] = translate(BAD_CHARACTERS)
        elif len(form[key]) > limit and key not in errors:
            errors[key] = translate(
                "%(limit)s文字以内で入力してください（いま%(count)s文字です）",
                limit=limit,
                count=len(form[key]),
            )
    return form, errors


def _chosen_start(day: dt.date, text: str) -> dt.datetime | None:
    try:
        hour, minute = (int(part) for part in text.split(":"))
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TOKYO)
    except ValueError:
        return None


def _limit() -> int:
    return current_app.config["APPOINTMENTS_PER_RESIDENT"]


def _rate_limit():
    return limiter.limit(lambda: current_app.config["RATELIMIT_BOOKING"], methods=["POST"])


@bp.route("/<counter_id>/<day>", methods=["GET", "POST"])
@_rate_limit()
@retried_view  # one transaction that locks several rows: a deadlock runs it again
def day(counter_id: str, day: str):
    counter = _counter_or_404(counter_id)
    chosen_day = _day_or_404(day)
    visit = service.visit_of(counter, request.values.getlist("service"), _people())
    if visit is None:
        return redirect(url_for(".counter", counter_id=counter.id, **_carry()))
    now = clock.now()
    origin = _origin()
    form, errors = _contact_defaults(), {}
    if request.method == "POST":
        form, errors = _read_contact()
        start = _chosen_start(chosen_day, form["time"])
        if not errors and start is not None:
            response = _book(visit, start, form, origin, now)
            if response is not None:
                return response
            errors["time"] = translate(
                "予約できるのは1人%(limit)s件までです。不要な予約を取り消してから、もう一度お試しください",
                limit=_limit(),
            )
    free = service.times(db.session, visit, chosen_day, now)
    status = 422 if errors else 200
    return (
        _render(
            "appointments/day.html",
            counter=counter,
            visit=visit,
            day=chosen_day,
            times=free,
            form=form,
            errors=errors,
            origin=origin,
            carry=_carry(visit),
            logged_in=_user() is not None,
            action=url_for(".day", counter_id=counter.id, day=chosen_day.isoformat()),
            back=url_for(
                ".counter",
                counter_id=counter.id,
                month=chosen_day.strftime("%Y-%m"),
                **_carry(visit),
            ),
        ),
        status,
    )


def _book(visit, start, form, origin, now) -> Response | None:
    """Book; a redirect to the manage page, the "already taken" page, or None at the limit."""
    user = _user()
    secret = current_app.config["SECRET_KEY"]
    procedure = origin.get("procedure")
    application = origin.get("application")
    details = {
        "name": form["name"],
        "email": form["email"],
        "phone": form["phone"],
        "note": form["note"],
        # The language of the booking's mail, now and later (decision 0074).
        "lang": current_language(),
        "procedure_id": procedure.id if procedure else None,
        "procedure_title": procedure.title if procedure else None,
        "application_reference": application.reference if application else None,
    }
    bundle = origin.get("bundle")
    if bundle is not None:
        details["bundle_reference"] = bundle.reference
    try:
        appointment = service.make(
            db.session,
            visit=visit,
            start=start,
            now=now,
            secret=secret,
            holder=service.holder_key(
                secret, sub=user["sub"] if user else None, email=form["email"]
            ),
            limit=_limit(),
            owner_sub=user["sub"] if user else None,
            submission_id=application.id if application else None,
            details=details,
        )
    except service.SlotTaken:
        db.session.rollback()
        return _taken(visit, start, form, now)
    except service.LimitReached:
        db.session.rollback()
        return None
    if bundle is not None:
        appointment.bundle_id = bundle.id  # the prepared applications come with the visit
    token = service.manage_token(secret, appointment.public_id)
    messages.booked(db.session, appointment, visit, _manage_url(token), now)
    db.session.commit()
    return redirect(url_for(".manage", token=token, booked=1), 303)


def _taken(visit, start, form, now, token: str | None = None) -> Response:
    """409: the time has just been taken; other free times, each a button that books it with
    everything the resident entered."""
    return Response(
        _render(
            "appointments/taken.html",
            visit=visit,
            start=start,
            alternatives=service.alternatives(db.session, visit, start, now),
            form=form,
            carry=_carry(visit),
            token=token,
        ),
        409,
    )


def _manage_url(token: str) -> str:
    return public_url_for(".manage", token=token)


def _no_referrer(response) -> Response:
    response = current_app.make_response(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _checkin_code(appointment: Appointment) -> str | None:
    """The ticket's short code, shown beside the QR code (none for a booking made before it)."""
    if appointment.checkin_code_hash is None:
        return None
    return format_short_code(
        service.checkin_code(current_app.config["SECRET_KEY"], appointment.public_id)
    )


def _managed_or_404(token: str) -> Appointment:
    appointment = service.by_manage_token(db.session, token)
    if appointment is None:
        abort(404)
    return appointment


def _gone(appointment: Appointment, now: dt.datetime) -> Response | None:
    if service.link_expired(appointment, now):
        return _no_referrer(
            (
                _render(
                    "appointments/gone.html",
                    title=translate("このリンクは使えなくなりました"),
                    message=translate("予約の日が過ぎたため、このページは表示できません。"),
                ),
                410,
            )
        )
    return None


@bp.get("/manage/<token>")
def manage(token: str):
    appointment = _managed_or_404(token)
    now = clock.now()
    gone = _gone(appointment, now)
    if gone:
        return gone
    visit = service.visit_of_appointment(_catalog(), appointment)
    ticket = service.ticket_token(current_app.config["SECRET_KEY"], appointment.public_id)
    procedure = _catalog().procedure(appointment.details.get("procedure_id") or "")
    bundle = db.session.get(Bundle, appointment.bundle_id) if appointment.bundle_id else None
    return _no_referrer(
        _render(
            "appointments/manage.html",
            appointment=appointment,
            bundle=bundle,
            visit=visit,
            counter=visit.counter,
            procedure=procedure,
            ticket=ticket,
            checkin_code=_checkin_code(appointment),
            qr=qr_svg(ticket, translate("予約票のQRコード（窓口で読み取ります）")),
            can_change=service.can_change(appointment, now),
            status=translate(service.STATUS_LABELS[appointment.status]),
            just_booked=request.args.get("booked") == "1",
            token=token,
        )
    )


@bp.get("/manage/<token>/appointment.ics")
def calendar_file(token: str):
    appointment = _managed_or_404(token)
    now = clock.now()
    if service.link_expired(appointment, now):
        abort(410)
    visit = service.visit_of_appointment(_catalog(), appointment)
    body = messages.ics_of(appointment, visit, _manage_url(token), now)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return _no_referrer(response)


def _refuse_change(appointment: Appointment, now: dt.datetime) -> Response | None:
    gone = _gone(appointment, now)
    if gone:
        return gone
    if service.can_change(appointment, now):
        return None
    message = (
        translate("この予約は取り消されています。")
        if appointment.status == "cancelled"
        else translate(
            "予約の開始時刻を過ぎたため、変更や取り消しはできません。窓口でお申し出ください。"
        )
    )
    return _no_referrer(
        (
            _render(
                "appointments/gone.html",
                title=translate("この予約は変更できません"),
                message=message,
            ),
            410,
        )
    )


@bp.route("/manage/<token>/cancel", methods=["GET", "POST"])
@_rate_limit()
@retried_view  # one transaction that locks several rows: a deadlock runs it again
def cancel(token: str):
    appointment = _managed_or_404(token)
    now = clock.now()
    refused = _refuse_change(appointment, now)
    if refused:
        return refused
    visit = service.visit_of_appointment(_catalog(), appointment)
    if request.method == "POST":
        if service.cancel(db.session, appointment, now):
            messages.cancelled(db.session, appointment, visit, now)
        db.session.commit()
        return redirect(url_for(".manage", token=token), 303)
    return _no_referrer(
        _render("appointments/cancel.html", appointment=appointment, visit=visit, token=token)
    )


@bp.get("/manage/<token>/reschedule")
def reschedule(token: str):
    appointment = _managed_or_404(token)
    now = clock.now()
    refused = _refuse_change(appointment, now)
    if refused:
        return refused
    visit = service.visit_of_appointment(_catalog(), appointment)
    return _no_referrer(
        _render(
            "appointments/reschedule.html",
            appointment=appointment,
            visit=visit,
            counter=visit.counter,
            cal=_calendar(visit, now, _month_start(now)),
            token=token,
            day_link=lambda d: url_for(".reschedule_day", token=token, day=d.isoformat()),
            month_link=lambda m: url_for(".reschedule", token=token, month=m.strftime("%Y-%m")),
        )
    )


@bp.route("/manage/<token>/reschedule/<day>", methods=["GET", "POST"])
@_rate_limit()
@retried_view  # one transaction that locks several rows: a deadlock runs it again
def reschedule_day(token: str, day: str):
    appointment = _managed_or_404(token)
    now = clock.now()
    refused = _refuse_change(appointment, now)
    if refused:
        return refused
    chosen_day = _day_or_404(day)
    visit = service.visit_of_appointment(_catalog(), appointment)
    errors: dict = {}
    if request.method == "POST":
        start = _chosen_start(chosen_day, request.form.get("time", ""))
        if start is None:
            errors["time"] = translate("時間を選んでください")
        else:
            try:
                service.reschedule(db.session, appointment, visit, start, now)
            except service.SlotTaken:
                db.session.rollback()
                return _no_referrer(_taken(visit, start, {}, now, token=token))
            except service.NotBooked:  # cancelled or checked in meanwhile: the booking says so
                db.session.rollback()
                return redirect(url_for(".manage", token=token), 303)
            messages.rescheduled(db.session, appointment, visit, _manage_url(token), now)
            db.session.commit()
            return redirect(url_for(".manage", token=token, moved=1), 303)
    free = [
        t
        for t in service.move_times(db.session, appointment, visit, chosen_day, now)
        if t != appointment.starts_at
    ]
    return _no_referrer(
        (
            _render(
                "appointments/reschedule_day.html",
                appointment=appointment,
                visit=visit,
                counter=visit.counter,
                day=chosen_day,
                times=free,
                errors=errors,
                token=token,
            ),
            422 if errors else 200,
        )
    )
