"""Staff pages for the counters' appointments (routes on the staff blueprint, so the staff
sign-in and the 404-for-others rule apply): the day view of a counter with who is coming and
their prepared application, check-in by the QR ticket (a scanner types the token into a field)
giving a queue number, arrived / served / no-show, blocking and releasing slots, and closures.

A member sees the counters of their departments only; an administrator sees every counter.
Opening a day's list is recorded in the audit log (it shows residents' names).
"""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from portal import audit, clock
from portal.appointments import service
from portal.appointments.models import Appointment, AppointmentClosure
from portal.catalog.schema import Counter
from portal.clock import TOKYO
from portal.db import db
from portal.input_policy import BAD_CHARACTERS, bad_characters
from portal.staff import bp
from portal.staff import kiosks as kiosk_calls
from portal.staff.access import WRITING_GETS
from portal.submissions.models import Submission

WRITING_GETS.add("staff.appointments")


def _counters() -> list[Counter]:
    member = g.current_staff
    departments = member.departments()
    return [
        counter
        for counter in service.bookable_counters(current_app.extensions["catalog"])
        if member.is_admin() or counter.department in departments
    ]


def _counter_or_404(counter_id: str) -> Counter:
    counter = next((c for c in _counters() if c.id == counter_id), None)
    if counter is None:
        abort(404)
    return counter


def _day(text: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(text or "")
    except ValueError:
        return clock.today_local()


def _back(counter_id: str, day: dt.date):
    return redirect(url_for("staff.appointments", counter=counter_id, day=day.isoformat()), 303)


@bp.get("/appointments")
def appointments():
    counters = _counters()
    if not counters:
        abort(404)
    counter = _counter_or_404(request.args.get("counter") or counters[0].id)
    day = _day(request.args.get("day"))
    catalog = current_app.extensions["catalog"]
    rows = []
    for appointment in service.day_appointments(db.session, counter.id, day):
        visit = service.visit_of_appointment(catalog, appointment)
        application = None
        if appointment.submission_id is not None:
            application = db.session.get(Submission, appointment.submission_id)
        bundled = []  # the applications filed together for this visit (portal.bundles)
        if appointment.bundle_id is not None:
            bundled = list(
                db.session.scalars(
                    select(Submission)
                    .where(Submission.bundle_id == appointment.bundle_id)
                    .order_by(Submission.id)
                )
            )
        rows.append(
            {
                "appointment": appointment,
                "services": visit.service_names if visit else "、".join(appointment.services),
                "status": service.STATUS_LABELS[appointment.status],
                "application": application,
                "bundled": bundled,
            }
        )
    audit.record(
        db.session,
        actor=f"staff:{g.current_staff.id}",
        action="view",
        target=f"appointments:{counter.id}:{day.isoformat()}",
        department=counter.department,
        at=clock.now(),
    )
    db.session.commit()
    return render_template(
        "staff/appointments.html",
        counters=counters,
        counter=counter,
        day=day,
        previous_day=day - dt.timedelta(days=1),
        next_day=day + dt.timedelta(days=1),
        rows=rows,
        slots=service.day_slots(db.session, counter, day),
        **kiosk_calls.calls_context(),
        staff_departments=g.current_staff.departments(),
    )


@bp.post("/appointments/check-in")
def appointments_check_in():
    counter = _counter_or_404(request.form.get("counter", ""))
    now = clock.now()
    today = now.astimezone(TOKYO).date()
    appointment = service.by_ticket(db.session, request.form.get("ticket", ""), today)
    if appointment is None or appointment.counter_id not in {c.id for c in _counters()}:
        flash("この予約票は見つかりません。番号を確かめて、もう一度読み取ってください。")
    elif (refusal := service.check_in_refusal(appointment, now)) == service.CANCELLED_TICKET:
        flash("この予約は取り消されています。")
    elif refusal == service.OTHER_DAY:
        when = appointment.starts_at.astimezone(TOKYO)
        flash(f"この予約は本日ではありません（{when.month}月{when.day}日の予約です）。")
    elif appointment.counter_id != counter.id:
        other = _counter_or_404(appointment.counter_id)
        flash(f"この予約は「{other.name}」の予約です。")
    else:
        already = appointment.queue_number is not None
        number = service.check_in(db.session, appointment, now)
        db.session.commit()
        name = appointment.details.get("name", "")
        flash(
            f"受付済みです。受付番号は {number} 番です（{name} 様）。"
            if already
            else f"受付しました。受付番号 {number} 番をお渡しください（{name} 様）。"
        )
    return _back(counter.id, today)


@bp.post("/appointments/<public_id>/status")
def appointments_status(public_id: str):
    appointment = db.session.scalar(select(Appointment).where(Appointment.public_id == public_id))
    if appointment is None:
        abort(404)
    counter = _counter_or_404(appointment.counter_id)
    status = request.form.get("status", "")
    if status not in service.STAFF_STATUSES or appointment.status == "cancelled":
        abort(400)
    service.set_status(db.session, appointment, status, clock.now())
    db.session.commit()
    flash(
        f"{appointment.details.get('name', '')} 様を「{service.STATUS_LABELS[status]}」にしました。"
    )
    return _back(counter.id, appointment.starts_at.astimezone(TOKYO).date())


@bp.post("/appointments/slots")
def appointments_slot():
    counter = _counter_or_404(request.form.get("counter", ""))
    try:
        start = dt.datetime.fromisoformat(request.form.get("start", "")).astimezone(TOKYO)
    except ValueError:
        abort(400)
    if start.tzinfo is None or start not in {
        s["start"] for s in service.day_slots(db.session, counter, start.date())
    }:
        abort(400)
    blocked = request.form.get("action") == "block"
    service.set_blocked(db.session, counter, start, blocked)
    db.session.commit()
    flash(
        f"{start.hour}時{start.minute:02d}分の枠を"
        + (
            "受付停止にしました（予約済みの方はそのままです）。"
            if blocked
            else "受付再開にしました。"
        )
    )
    return _back(counter.id, start.date())


CLOSURE_REASON_MAX = 200  # the column's length (tests/unit/test_stored_limits.py)


def _closure_form() -> tuple[dict, dict, tuple[dt.datetime, dt.datetime] | None]:
    form = {
        key: request.form.get(key, "").strip() for key in ("counter", "first", "last", "reason")
    }
    errors: dict[str, str] = {}
    allowed = {c.id for c in _counters()}
    if form["counter"] == "all" and not g.current_staff.is_admin():
        errors["counter"] = "すべての窓口を閉じられるのは管理者だけです"
    elif form["counter"] != "all" and form["counter"] not in allowed:
        errors["counter"] = "窓口を選んでください"
    days = []
    for key, label in (("first", "最初の日"), ("last", "最後の日")):
        try:
            days.append(dt.date.fromisoformat(form[key]))
        except ValueError:
            errors[key] = f"{label}を 2026-12-28 の形で入力してください"
    if len(days) == 2 and days[1] < days[0]:
        errors["last"] = "最後の日は、最初の日と同じか、それより後にしてください"
    if bad_characters(form["reason"]):
        errors["reason"] = f"理由に{BAD_CHARACTERS}"
    elif not form["reason"]:
        errors["reason"] = "理由を入力してください（例：庁舎の電気設備の点検）"
    elif len(form["reason"]) > CLOSURE_REASON_MAX:
        errors["reason"] = f"理由は{CLOSURE_REASON_MAX}文字以内で入力してください"
    period = None
    if not errors:
        start = dt.datetime.combine(days[0], dt.time(0), tzinfo=TOKYO)
        end = dt.datetime.combine(days[1] + dt.timedelta(days=1), dt.time(0), tzinfo=TOKYO)
        period = (start, end)
    return form, errors, period


@bp.route("/appointments/closures", methods=["GET", "POST"])
def appointments_closures():
    counters = _counters()
    if not counters:
        abort(404)
    form: dict = {"counter": counters[0].id}
    errors: dict = {}
    if request.method == "POST":
        form, errors, period = _closure_form()
        if not errors:
            counter_id = None if form["counter"] == "all" else form["counter"]
            now = clock.now()
            db.session.add(
                AppointmentClosure(
                    counter_id=counter_id,
                    starts_at=period[0],
                    ends_at=period[1],
                    reason=form["reason"],
                    created_by=g.current_staff.id,
                    created_at=now,
                )
            )
            affected = service.booked_between(db.session, counter_id, *period)
            db.session.commit()
            flash(
                "受付停止の期間を登録しました。"
                + (
                    f"この期間に予約が {affected} 件あります。予約した方に連絡してください。"
                    if affected
                    else ""
                )
            )
            return redirect(url_for("staff.appointments_closures"), 303)
    ids = {c.id for c in counters}
    closures = db.session.scalars(
        select(AppointmentClosure)
        .where(AppointmentClosure.ends_at > clock.now())
        .order_by(AppointmentClosure.starts_at)
    ).all()
    names = {c.id: c.name for c in counters}
    return (
        render_template(
            "staff/closures.html",
            counters=counters,
            closures=[c for c in closures if c.counter_id is None or c.counter_id in ids],
            names=names,
            form=form,
            errors=errors,
            is_admin=g.current_staff.is_admin(),
        ),
        422 if errors else 200,
    )


@bp.post("/appointments/closures/<int:closure_id>/delete")
def appointments_closure_delete(closure_id: int):
    closure = db.session.get(AppointmentClosure, closure_id)
    if closure is None:
        abort(404)
    if closure.counter_id is None:
        if not g.current_staff.is_admin():
            abort(404)
    else:
        _counter_or_404(closure.counter_id)
    db.session.delete(closure)
    db.session.commit()
    flash("受付停止の期間を取り消しました。")
    return redirect(url_for("staff.appointments_closures"), 303)
